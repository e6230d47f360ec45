"""``medbench build ms-cxr | padchest-gr | rsna-pneumonia | covid-rural``: one command per
benchmark, all with the same options. ``register_commands(app)`` mounts them.

No ``from __future__ import annotations`` here: the option help texts are chosen per command
inside ``make_command``, so the annotations must be evaluated when each command is made."""

from pathlib import Path
from typing import Annotated

import typer

from medbench.builders.cli_common import (
    MAX_PRINTED_SKIPS,
    AsJson,
    OutDir,
    count_kinds,
    demo_replica,
    exit_2_on,
    print_json_summary,
    print_skips,
    require_root_or_demo,
)
from medbench.builders.cxr_grounding.build import BENCHMARKS, build
from medbench.builders.cxr_grounding.records import BuildError
from medbench.console import err_console

SOURCE_HELP = {
    "ms-cxr": "Folder holding MS_CXR_Local_Alignment_v1.0.0.csv or v1.1.0.csv (PhysioNet ms-cxr).",
    "padchest-gr": "Folder holding grounded_reports_<date>.json and master_table.csv "
    "(BIMCV PadChest-GR).",
    "rsna-pneumonia": "The extracted Kaggle folder: stage_2_train_labels.csv, "
    "stage_2_detailed_class_info.csv, stage_2_train_images/.",
    "covid-rural": "The covid_rural_annot folder of haimingt/opacity_segmentation_covid_"
    "chest_X_ray (jpgs/, pngs_masks/), or the repository root.",
}
IMAGE_HELP = {
    "ms-cxr": "MIMIC-CXR-JPG root (holding files/pXX/...). Without it images are not "
    "checked and sizes come from the CSV.",
    "padchest-gr": "Folder with the PadChest-GR PNGs (<ImageID>). Default: found under the "
    "source root (Padchest_GR_files/PadChest_GR, ...).",
    "rsna-pneumonia": "Folder holding stage_2_train_images/. Default: the source root.",
    "covid-rural": "Folder holding jpgs/. Default: the covid_rural_annot folder.",
}
SUMMARY = {
    "ms-cxr": "MS-CXR: phrase → boxes (multi-box phrases grouped) on MIMIC-CXR images.",
    "padchest-gr": "PadChest-GR: report sentence → 0/1/many boxes; non-abnormal sentences "
    "have none.",
    "rsna-pneumonia": 'RSNA Pneumonia: "pneumonia" → the image\'s boxes; negatives have none.',
    "covid-rural": 'COVID Rural: "COVID-19" → one box per opacity-mask component.',
}


def demo_roots(name: str, out: Path) -> tuple[Path, Path]:
    """Write the benchmark's layout replica once under ``<out>/.work``; (source, image) roots."""
    import importlib

    module = importlib.import_module(f"medbench.demo.cxr.{BENCHMARKS[name].demo}")
    root = demo_replica(out / ".work" / f"demo-{name}", module.write)
    return module.source_root(root), module.image_root(root)


def make_command(name: str):
    def command(
        out: OutDir,
        source_root: Annotated[
            Path | None, typer.Option("--source-root", help=SOURCE_HELP[name])
        ] = None,
        image_root: Annotated[
            Path | None, typer.Option("--image-root", help=IMAGE_HELP[name])
        ] = None,
        demo: Annotated[
            bool, typer.Option("--demo", help="Build from the embedded layout replica.")
        ] = False,
        embed_images: Annotated[
            bool,
            typer.Option(
                "--embed-images",
                help="Store the image bytes in the rows (local use only; the manifest says "
                "so and `medbench publish` refuses a public push).",
            ),
        ] = False,
        as_json: AsJson = False,
    ) -> None:
        require_root_or_demo(source_root, demo)
        with exit_2_on(BuildError, highlight=False):
            if demo:
                source_root, demo_images = demo_roots(name, out)
                image_root = image_root or demo_images
            assert source_root is not None
            result = build(name, out, source_root, image_root, embed_images=embed_images, demo=demo)

        read = result.read
        print_skips([f"{skip.item}: {skip.kind}: {skip.reason}" for skip in read.skipped])
        for issue in read.image_issues[:MAX_PRINTED_SKIPS]:
            err_console.print(
                f"[yellow]image {issue.problem}[/] {issue.image_path}: {issue.outcome}",
                soft_wrap=True,
                highlight=False,
            )
        counts = result.manifest["counts"]
        splits = ", ".join(f"{s} {c['rows']}" for s, c in counts["by_split"].items())
        err_console.print(
            f"{name} → {out}: {counts['rows']} rows ({splits}), {counts['boxes']} boxes, "
            f"box counts 0/1/2+ = {counts['by_box_count']['0']}/{counts['by_box_count']['1']}/"
            f"{counts['by_box_count']['2+']}; skipped: {count_kinds(read.skipped)}"
            f"; {len(read.image_issues)} image(s) missing or unreadable"
            + (f"; images embedded ({counts['images_embedded']})" if embed_images else "")
            + " (report/)",
            soft_wrap=True,
            highlight=False,
        )
        print_json_summary(
            as_json,
            out,
            benchmark=name,
            rows=counts["rows"],
            counts=counts,
            shards=result.manifest["shards"],
            skipped=result.manifest["skipped"],
            image_issues=result.manifest["image_issues"],
        )

    command.__doc__ = (
        f"Build {SUMMARY[name]}\n\nRows carry image_path into your licensed image store, not "
        "pixels (unless --embed-images). Skipped items and missing images are listed in "
        "report/; the card states the licence."
    )
    command.__name__ = name.replace("-", "_")
    return command


def register_commands(app: typer.Typer) -> None:
    for name in BENCHMARKS:
        app.command(name)(make_command(name))
