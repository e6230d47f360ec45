"""``manifest.json`` and ``report/`` of a COCO reference build: what was built, from what,
and what was left out (VGMED's writers where they fit)."""

from __future__ import annotations

from collections import Counter

from medbench import __version__
from medbench.builders.coco_ref.build import CocoBuildConfig, CocoBuildResult
from medbench.builders.coco_ref.questions import CocoAttributeSource
from medbench.builders.outputs import bar_chart, package_versions, write_csv, write_json_atomic
from medbench.builders.shards import sha256_file
from medbench.builders.vgmed.questions import LOCALIZATION_FILE
from medbench.llm.template_backend import ATTRIBUTE_TEMPLATES_FILE
from medbench.prompts import load_prompt

COCO_TITLE = "Microsoft COCO: Common Objects in Context"
COCO_HOMEPAGE = "https://cocodataset.org"
COCO_TERMS = "https://cocodataset.org/#termsofuse"
ANNOTATIONS_LICENSE = "CC-BY-4.0"
IMAGES_LICENSE = (
    "Flickr Terms of Use; each photo under the licence its owner chose (image_license column); "
    "the COCO Consortium does not own the images' copyright"
)
SKIP_COLUMNS = ["coco_split", "image_id", "annotation_id", "item", "kind", "reason"]


def write_manifest(
    result: CocoBuildResult, config: CocoBuildConfig, source: CocoAttributeSource
) -> dict:
    selected = result.selected
    licenses = result.instances.licenses
    image_ids = sorted({c.image_id for c in selected})
    annotations = result.split.annotations
    manifest = {
        "name": "coco-ref",
        "medbench_version": __version__,
        "config": config.public_dict(),
        "input": {
            "coco_root": str(config.coco_root),
            "coco_split": result.split.name,
            "splits_found": result.splits_found,
            "annotations_file": annotations.relative_to(config.coco_root).as_posix(),
            "annotations_sha256": sha256_file(annotations),
            "images_dir": result.split.images_dir.relative_to(config.coco_root).as_posix(),
        },
        "packages": package_versions(),
        "prompts": {
            LOCALIZATION_FILE: load_prompt(LOCALIZATION_FILE).sha256,
            source.template.id: source.template.sha256,
            # the offline answers (template backend, and the fallback when a request fails)
            ATTRIBUTE_TEMPLATES_FILE: load_prompt(ATTRIBUTE_TEMPLATES_FILE).sha256,
        },
        "attribute_question_source": source.tag,
        # requests made for attribute questions: questions_per_label per unique category
        "llm": source.summary(),
        "counts": {
            "image_box_pairs": len(selected),
            "rows": result.rows,
            "images": len(image_ids),
            "annotations_in_file": result.instances.annotations,
            "images_in_file": result.instances.images,
            "candidates": len(result.instances.candidates),
            "skipped_items": len(result.skipped),
            "skipped_by_kind": dict(sorted(Counter(s.kind for s in result.skipped).items())),
            "resampling_rounds": result.resampled,
            "by_question_type": result.question_counts,
            "by_supercategory": dict(sorted(Counter(c.supercategory for c in selected).items())),
            "by_category": dict(sorted(Counter(c.label for c in selected).items())),
            "by_image_license": dict(
                sorted(
                    Counter(
                        licenses.get(c.license_id, ("unknown", ""))[0]  # type: ignore[arg-type]
                        for c in selected
                    ).items()
                )
            ),
            "by_image_format": dict(
                sorted(Counter(result.stored[i].format for i in image_ids).items())
            ),
        },
        # one entry, in the shape `medbench publish` checks licences against
        "sources": [
            {
                "id": "COCO",
                "title": COCO_TITLE,
                "license": f"annotations {ANNOTATIONS_LICENSE}; images: {IMAGES_LICENSE}",
                "homepage": COCO_HOMEPAGE,
                "terms": COCO_TERMS,
                "credentialed": False,
                "redistributable": True,
                "found": True,
                "pairs": len(selected),
            }
        ],
        "licenses": {
            "annotations": ANNOTATIONS_LICENSE,
            "images": IMAGES_LICENSE,
            "terms": COCO_TERMS,
            "image_licenses": {str(k): {"name": n, "url": u} for k, (n, u) in licenses.items()},
        },
        "shards": [vars(s) for s in result.shards],
        "skipped": [vars(s) for s in result.skipped],
    }
    write_json_atomic(result.out / "manifest.json", manifest)
    return manifest


def _blank(value: int | None) -> int | str:
    return "" if value is None else value


def write_report(result: CocoBuildResult) -> None:
    report = result.out / "report"
    report.mkdir(exist_ok=True)
    split = result.split.name
    write_csv(
        report / "skipped.csv",
        SKIP_COLUMNS,
        [
            [split, _blank(s.image_id), _blank(s.annotation_id), s.item, s.kind, s.reason]
            for s in result.skipped
        ],
    )
    supercategory = {name: sup for name, sup in result.instances.categories.values()}
    pairs = Counter(c.label for c in result.selected)
    available = result.instances.candidates_by_category
    write_csv(
        report / "counts_by_category.csv",
        ["supercategory", "category", "candidates", "pairs"],
        sorted(
            [supercategory.get(label, ""), label, available.get(label, 0), pairs.get(label, 0)]
            for label in sorted(set(available) | set(pairs))
        ),
    )
    bar_chart(
        report / "counts_by_supercategory.png",
        Counter(c.supercategory for c in result.selected),
        "COCO reference pairs per supercategory",
    )
