"""``medbench review export``: a CSV rating sheet and a self-contained HTML page."""

from __future__ import annotations

import base64
import csv
import html
from pathlib import Path

import pyarrow.parquet as pq

from medbench.review.scales import SCALES

SHEET_COLUMNS = [
    "sample_id",
    "pair_id",
    "dataset",
    "case_id",
    "label",
    "question_type",
    "question",
    *SCALES,
]
_META_COLUMNS = [
    "sample_id",
    "pair_id",
    "dataset",
    "case_id",
    "label",
    "question_type",
    "question",
    "bbox",
    "image_width",
    "image_height",
    "modality",
]


def shard_paths(out: Path) -> list[Path]:
    paths = sorted((out / "data").glob("*.parquet"))
    if not paths:
        raise FileNotFoundError(f"{out / 'data'}: no Parquet shards (build the dataset first)")
    return paths


def iter_rows(out: Path, with_images: bool):
    columns = _META_COLUMNS + (["image"] if with_images else [])
    for path in shard_paths(out):
        parquet = pq.ParquetFile(path)
        for group in range(parquet.num_row_groups):
            yield from parquet.read_row_group(group, columns=columns).to_pylist()


def write_sheet(out: Path, path: Path) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(SHEET_COLUMNS)
        for row in iter_rows(out, with_images=False):
            writer.writerow([row[c] for c in SHEET_COLUMNS[:7]] + [""] * len(SCALES))
            count += 1
    return count


_PAGE_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>VGMED review</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px}
.sample{display:flex;gap:24px;border-top:1px solid #ccc;padding:16px 0}
.frame{position:relative;flex:0 0 auto;line-height:0}
.frame img{width:320px;image-rendering:pixelated}
.box{position:absolute;border:2px solid #e02020;box-sizing:border-box}
.scale{margin:6px 0}.scale b{display:inline-block;width:230px}
.meta{color:#555;font-size:90%}
</style></head><body>
<h1>VGMED clinician review</h1>
<p>Rate every question on the three scales (paper 001, app. R), then press
<button onclick="download()">Download ratings CSV</button> and give the file to
<code>medbench review import</code>. Samples rated below 3 on any scale are dropped.</p>
"""

_PAGE_TAIL = """<script>
const SCALES = %s;
function download(){
  const rows = [["sample_id", ...SCALES]];
  document.querySelectorAll(".sample").forEach(s => {
    const id = s.dataset.sampleId;
    rows.push([id, ...SCALES.map(k => {
      const c = s.querySelector(`input[name="${id}:${k}"]:checked`); return c ? c.value : "";
    })]);
  });
  const blob = new Blob([rows.map(r => r.join(",")).join("\\n") + "\\n"], {type: "text/csv"});
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = "ratings.csv"; a.click();
}
</script></body></html>
"""


def _sample_html(row: dict) -> str:
    x1, y1, x2, y2 = row["bbox"]
    w, h = row["image_width"], row["image_height"]
    style = (
        f"left:{100 * x1 / w:.3f}%;top:{100 * y1 / h:.3f}%;"
        f"width:{100 * (x2 - x1) / w:.3f}%;height:{100 * (y2 - y1) / h:.3f}%"
    )
    data = base64.b64encode(row["image"]["bytes"]).decode("ascii")
    sid = html.escape(row["sample_id"])
    scales = []
    for key, (title, levels) in SCALES.items():
        options = "".join(
            f'<label title="{html.escape(text)}"><input type="radio" name="{sid}:{key}" '
            f'value="{score}">{score}</label> '
            for score, text in enumerate(levels, start=1)
        )
        scales.append(f'<div class="scale"><b>{title}</b>{options}</div>')
    return (
        f'<div class="sample" data-sample-id="{sid}">'
        f'<div class="frame"><img alt="{html.escape(row["label"])}" '
        f'src="data:image/png;base64,{data}"><div class="box" style="{style}"></div></div>'
        f'<div><p class="meta">{html.escape(row["dataset"])} · {html.escape(row["case_id"])} · '
        f"{html.escape(row['modality'])} · {sid}</p>"
        f"<p><b>{html.escape(row['question_type'].capitalize())} question:</b> "
        f"{html.escape(row['question'])}</p>{''.join(scales)}</div></div>\n"
    )


def write_page(out: Path, path: Path) -> None:
    import json

    with open(path, "w", encoding="utf-8") as fh:
        fh.write(_PAGE_HEAD)
        for row in iter_rows(out, with_images=True):
            fh.write(_sample_html(row))
        fh.write(_PAGE_TAIL % json.dumps(list(SCALES)))


def export_review(out: Path, dest: Path | None = None) -> tuple[Path, Path, int]:
    """Write ``review_sheet.csv`` and ``review.html`` into ``dest`` (default ``<out>/review``)."""
    dest = dest or out / "review"
    dest.mkdir(parents=True, exist_ok=True)
    sheet, page = dest / "review_sheet.csv", dest / "review.html"
    count = write_sheet(out, sheet)
    write_page(out, page)
    return sheet, page, count
