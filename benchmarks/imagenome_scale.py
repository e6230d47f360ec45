"""GMPG-ImaGenome build at scale: graphs per second and peak memory at growing input sizes.

Generates (once, cached under ``--workdir``) a Chest ImaGenome replica of ``max(--sizes)``
scene graphs of realistic size: all 36 objects with original and 224-space coordinates,
``attributes`` for every region the report mentions (phrases linked to a region and its parents,
``category|yes/no|name`` lists, cue lists), and ``relationships`` to the previous image; 20-40 KB
each. Graphs are zipped as PhysioNet ships them (``silver_dataset/scene_graph.zip``; ``--form
folder`` extracts them), with the splits CSVs, one MIMIC-CXR report per study, a MIMIC-CXR-JPG
metadata CSV (image sizes) and an MS-CXR CSV.

Then, for each size N, ``medbench build gmpg-imagenome --limit N`` runs in a fresh process
(hierarchy decider, the default; one process, one core) and the script prints graphs/s (graphs
read over the build's wall time, imports excluded; reading the inputs' tables, the manifest,
report and card included), graphs per CPU-second of the process (the per-core rate, robust to
other load on the machine) and the process's peak RSS. The issue's targets: at least 1,000
graphs/s per core, and peak memory that does not grow with N (under 4 GB).

    python benchmarks/imagenome_scale.py                     # 10K, 25K, 50K (default)
    python benchmarks/imagenome_scale.py --sizes 2000,5000   # quick
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from medbench.demo.imagenome import Phrase, atlas_boxes, scene_graph

DATA_VERSION = 1  # bump when the generator changes: cached data is regenerated
SEED = 1234

NEG, POS = "anatomicalfinding|no|", "anatomicalfinding|yes|"
ABNORMAL, NORMAL = "nlp|yes|abnormal", "nlp|yes|normal"
SIDES = ("right", "left")
ZONES = ("upper", "mid", "lower")
FINDINGS = ("atelectasis", "lung opacity", "consolidation", "pleural effusion", "pneumothorax")
SEVERITY = ("Mild", "Moderate", "Small", "Minimal", "Trace")


def sentence_pool(rng: random.Random) -> list[Phrase]:
    """Report sentences with the regions and flags Chest ImaGenome would give them."""
    pool: list[Phrase] = []
    lungs = ("right lung", "left lung")
    for finding in FINDINGS:
        pool.append(Phrase(f"No {finding}.", lungs, (NEG + finding,)))
        pool.append(
            Phrase(
                f"There is no {finding} or pulmonary edema.",
                (*lungs, "right costophrenic angle", "left costophrenic angle"),
                (NEG + finding, NEG + "pulmonary edema", NORMAL),
            )
        )
        for side in SIDES:
            for zone in ZONES:
                for severity in SEVERITY:
                    pool.append(
                        Phrase(
                            f"{severity} {finding} in the {side} {zone} lung zone is "
                            f"{rng.choice(['new', 'unchanged', 'improved', 'similar'])}.",
                            (f"{side} lung", f"{side} {zone} lung zone"),
                            (POS + finding, ABNORMAL, f"severity|yes|{severity.lower()}"),
                        )
                    )
    pool += [
        Phrase(
            "The heart size is normal.",
            ("cardiac silhouette", "mediastinum"),
            (NEG + "enlarged cardiac silhouette", NORMAL),
        ),
        Phrase(
            "Moderate cardiomegaly is stable.",
            ("cardiac silhouette", "mediastinum", "left cardiac silhouette"),
            (POS + "enlarged cardiac silhouette", ABNORMAL),
        ),
        Phrase(
            "The mediastinal and hilar contours are within normal limits.",
            ("mediastinum", "right hilar structures", "left hilar structures"),
            (NORMAL,),
        ),
        Phrase(
            "Right PICC line tip is in the cavoatrial junction.",
            ("mediastinum", "svc", "cavoatrial junction"),
            ("tubesandlines|yes|picc",),
        ),
        Phrase(
            "Endotracheal tube terminates 4 cm above the carina.",
            ("trachea", "carina", "upper mediastinum"),
            ("tubesandlines|yes|endotracheal tube",),
        ),
        Phrase("Surgical clips project over the left breast.", ("left breast",), (ABNORMAL,)),
        Phrase("Degenerative changes of the thoracic spine.", ("spine",), (POS + "spinal degen",)),
    ]
    return pool


def _graph(index: int, rng: random.Random, pool: list[Phrase]) -> tuple[dict, list[str]]:
    dicom = "-".join(f"{rng.getrandbits(32):08x}" for _ in range(5))
    subject = f"1{index // 3:07d}"
    study = f"5{index:07d}"
    size = rng.choice([(2544, 3056), (2539, 3050), (3056, 2544), (2828, 2320)])
    boxes = atlas_boxes(size, rng)
    phrases = tuple(rng.sample(pool, rng.randint(8, 14)))
    previous = "-".join(f"{rng.getrandbits(32):08x}" for _ in range(5)) if index % 3 else None
    graph = scene_graph(dicom, subject, study, size, phrases, boxes, previous=previous)
    report = ["FINAL REPORT", "INDICATION: ___", "", "FINDINGS:", ""]
    report += [p.text for p in phrases] + ["PA and lateral views of the chest were obtained."]
    report += ["", "IMPRESSION:", "", "No acute cardiopulmonary process."]
    return graph, ["\n ".join(report), dicom, subject, study, size]


def generate(folder: Path, count: int, form: str) -> None:
    rng = random.Random(SEED)
    pool = sentence_pool(rng)
    silver = folder / "chest-imagenome" / "silver_dataset"
    (silver / "splits").mkdir(parents=True, exist_ok=True)
    reports = folder / "mimic-cxr-reports" / "files"
    jpg = folder / "mimic-cxr-jpg"
    jpg.mkdir(parents=True, exist_ok=True)
    split_rows: dict[str, list[list]] = {"train": [], "valid": [], "test": []}
    metadata = io.StringIO()
    meta = csv.writer(metadata)
    meta.writerow(["dicom_id", "subject_id", "study_id", "ViewPosition", "Rows", "Columns"])
    ms_cxr = []
    zf = (
        zipfile.ZipFile(silver / "scene_graph.zip", "w", zipfile.ZIP_DEFLATED)
        if form == "zip"
        else None
    )
    if zf is None:
        (silver / "scene_graph").mkdir(exist_ok=True)
    total_bytes = 0
    for index in range(count):
        graph, (report, dicom, subject, study, size) = _graph(index, rng, pool)
        data = json.dumps(graph).encode("utf-8")
        total_bytes += len(data)
        name = f"{dicom}_SceneGraph.json"
        if zf is not None:
            zf.writestr(f"scene_graph/{name}", data)
        else:
            (silver / "scene_graph" / name).write_bytes(data)
        split = "train" if index % 10 < 7 else ("valid" if index % 10 == 7 else "test")
        path = f"files/p{subject[:2]}/p{subject}/s{study}/{dicom}.dcm"
        split_rows[split].append([index, subject, study, dicom, path, "PA"])
        meta.writerow([dicom, subject, study, "PA", size[1], size[0]])
        report_path = reports / f"p{subject[:2]}" / f"p{subject}" / f"s{study}.txt"
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(report, encoding="utf-8")
        if index % 200 == 0:
            ms_cxr.append([dicom, "Pneumonia", "opacity", path.replace(".dcm", ".jpg")])
    if zf is not None:
        zf.close()
    header = ["", "subject_id", "study_id", "dicom_id", "path", "ViewPosition"]
    for split, rows in split_rows.items():
        with open(silver / "splits" / f"{split}.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
    with gzip.open(jpg / "mimic-cxr-2.0.0-metadata.csv.gz", "wt") as fh:
        fh.write(metadata.getvalue())
    (folder / "ms-cxr").mkdir(exist_ok=True)
    with open(folder / "ms-cxr" / "MS_CXR_Local_Alignment_v1.1.0.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["dicom_id", "category_name", "label_text", "path"])
        writer.writerows(ms_cxr)
    stats = {"graphs": count, "mean_graph_kb": round(total_bytes / count / 1024, 1)}
    (folder / "generated.json").write_text(json.dumps(stats))


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from medbench.builders.gmpg_imagenome.build import GmpgConfig, build_gmpg_imagenome
folder, out, limit = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
config = GmpgConfig(
    imagenome_root=folder / "chest-imagenome",
    mimic_reports=folder / "mimic-cxr-reports",
    mimic_jpg=folder / "mimic-cxr-jpg",
    ms_cxr=folder / "ms-cxr" / "MS_CXR_Local_Alignment_v1.1.0.csv",
    out=out,
    limit=limit,
)
start, cpu = time.perf_counter(), time.process_time()
result = build_gmpg_imagenome(config)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"graphs": result.graphs_read, "rows": result.rows, "seconds": seconds,
                  "cpu_seconds": cpu, "peak_rss_mb": peak_kb / 1024}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,25000,50000", help="comma-separated graph counts")
    parser.add_argument("--form", choices=("zip", "folder"), default="zip")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "medbench-imagenome-bench"
    )
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    largest = sizes[-1]
    folder = args.workdir / f"v{DATA_VERSION}-{args.form}-{largest}"
    if not (folder / "generated.json").exists():
        start = time.perf_counter()
        print(f"generating {largest} scene graphs under {folder} ...", file=sys.stderr)
        generate(folder, largest, args.form)
        print(f"  {time.perf_counter() - start:.1f} s", file=sys.stderr)
    info = json.loads((folder / "generated.json").read_text())
    print(f"replica: {info['graphs']} graphs, mean {info['mean_graph_kb']} KB ({args.form})")
    results = []
    for n in sizes:
        out = args.workdir / f"out-{n}"
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(folder), str(out), str(n)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        run["graphs_per_s"] = run["graphs"] / run["seconds"]
        run["graphs_per_cpu_s"] = run["graphs"] / run["cpu_seconds"]
        results.append(run)
        print(
            f"{n:>7} graphs: {run['graphs_per_s']:6.0f} graphs/s wall, "
            f"{run['graphs_per_cpu_s']:6.0f} per CPU-second  ({run['seconds']:.1f} s, "
            f"{run['rows']} rows)  peak RSS {run['peak_rss_mb']:.0f} MB"
        )
    growth = results[-1]["peak_rss_mb"] - results[0]["peak_rss_mb"]
    print(f"peak RSS growth {sizes[0]} -> {sizes[-1]} graphs: {growth:+.0f} MB")
    if args.json_out:
        args.json_out.write_text(json.dumps({"replica": info, "runs": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
