"""``manifest.json`` and ``report/`` of a GMPG-ImaGenome build: the funnel, paper 002 table 2,
the hierarchy check, the deciders' counts, every image left out with its reason and, with
``--embed-images``, every image whose bytes could not be embedded."""

from __future__ import annotations

from medbench import __version__
from medbench.builders.gmpg_imagenome import negatives
from medbench.builders.gmpg_imagenome.build import BuildResult
from medbench.builders.gmpg_imagenome.images import ISSUES_FILE
from medbench.builders.gmpg_imagenome.regions import BBOX_NAMES, region_order
from medbench.builders.gmpg_imagenome.specificity import PROMPT_ID
from medbench.builders.gmpg_imagenome.stats import SplitStats
from medbench.builders.outputs import package_versions, write_csv, write_json_atomic
from medbench.llm.runner import LLMClient
from medbench.prompts import load_template

PHYSIONET_LICENSE = "PhysioNet Credentialed Health Data License 1.5.0"
PHYSIONET_LICENSE_URL = (
    "https://physionet.org/about/licenses/physionet-credentialed-health-data-license-150/"
)
PAPER_REDUCTION = 0.896  # paper 002 sec. 3.4.1: sentence-box pairs, source -> cleaned


def _sources(result: BuildResult) -> list[dict]:
    rows = result.rows
    embedded = result.images is not None
    common = {
        "license": PHYSIONET_LICENSE,
        "license_url": PHYSIONET_LICENSE_URL,
        "credentialed": True,
        "redistributable": False,
        "found": True,
    }
    return [
        {
            "id": "chest-imagenome",
            "title": "Chest ImaGenome Dataset v1.0.0 (silver scene graphs)",
            "homepage": "https://physionet.org/content/chest-imagenome/1.0.0/",
            "use": "sentence-region links, anatomy boxes, attribute flags, splits",
            **common,
            "pairs": rows,
        },
        {
            "id": "mimic-cxr",
            "title": "MIMIC-CXR v2 (free-text reports)",
            "homepage": "https://physionet.org/content/mimic-cxr/2.0.0/",
            "use": "report sentences (stage 3); every row's sentence comes from a report",
            **common,
            "pairs": rows,
        },
        {
            "id": "mimic-cxr-jpg",
            "title": "MIMIC-CXR-JPG v2",
            "homepage": "https://physionet.org/content/mimic-cxr-jpg/2.0.0/",
            "use": "image_path points into it; image sizes; "
            + (
                "image bytes embedded (--embed-images, local use only)"
                if embedded
                else "no image bytes are stored"
            ),
            **common,
            "found": result.config.mimic_jpg is not None,
            "images_embedded": embedded,
            "pairs": rows,
        },
        {
            "id": "ms-cxr",
            "title": "MS-CXR",
            "homepage": "https://physionet.org/content/ms-cxr/",
            "use": "exclusion list only (leakage); no MS-CXR data in the rows",
            **common,
            "found": result.leakage.applied,
            "pairs": 0,
        },
    ]


def table2(result: BuildResult) -> dict:
    total = SplitStats()
    for stats in result.split_stats.values():
        total.images += stats.images
        total.rows += stats.rows
        total.boxes += stats.boxes
        total.by_count = [a + b for a, b in zip(total.by_count, stats.by_count, strict=True)]
        total.words += stats.words
        total.words_sq += stats.words_sq
    out = {name: s.as_dict() for name, s in sorted(result.split_stats.items())}
    out["all"] = total.as_dict()
    return out


def write_manifest(result: BuildResult, client: LLMClient | None) -> dict:
    config = result.config
    spec = result.specificity
    llm = None
    prompts = {}
    if spec.mode != "hierarchy" and client is not None:
        template = load_template(PROMPT_ID)
        prompts[PROMPT_ID] = template.sha256
        llm = {**client.stats.as_dict(), "provenance": client.provenance(template)}
    source = result.source
    funnel = result.funnel
    manifest = {
        "name": "gmpg-imagenome",
        "medbench_version": __version__,
        "config": config.public_dict(),
        "input": {
            "scene_graphs": {
                "form": source.kind,
                "path": source.path.name,
                "files": len(source),
                "read": result.graphs_read,
            },
            "splits": {
                "files": [f"{n}.csv" for n in result.splits.split_names],
                "rows": result.splits.rows_per_split,
                "images_to_avoid": len(result.splits.avoid),
                "dicom_ids_in_two_splits": len(result.splits.conflicts),
            },
            "report_sections": list(config.sections),
            "mimic_cxr_jpg_metadata": result.size_metadata_file,
        },
        "packages": package_versions(),
        "prompts": prompts,
        # image bytes in the shards make the build itself a copy of MIMIC-CXR-JPG images
        "images_embedded": result.images is not None,
        "counts": {
            "rows": result.rows,
            "images": sum(s.images for s in result.split_stats.values()),
            "graphs_read": result.graphs_read,
            "graph_errors": len(result.errors),
            "skipped_graph_entries": result.skipped_graph_entries,
            "excluded_images": dict(sorted(result.excluded_by_reason.items())),
            # no shards and no entry in the card's splits (e.g. with --limit)
            "splits_without_rows": sorted(s for s, st in result.split_stats.items() if not st.rows),
            "image_size_source": dict(sorted(result.size_sources.items())),
            "degenerate_boxes": sum(result.degenerate_by_region.values()),
            "degenerate_boxes_by_region": dict(sorted(result.degenerate_by_region.items())),
            "linked_regions_without_object": sum(result.no_object_by_region.values()),
            "linked_regions_without_object_by_region": dict(
                sorted(result.no_object_by_region.items())
            ),
            **(result.images.summary() if result.images is not None else {}),
        },
        "funnel": funnel.as_list(),
        "reduction": {
            "sentence_box_pairs": funnel.reduction(),
            "paper": PAPER_REDUCTION,
        },
        "table2": table2(result),
        "hierarchy": {
            "file": result.hierarchy.source,
            "sha256": result.hierarchy.sha256,
            "tag": result.hierarchy.tag,
            "check": result.containment.summary(),
        },
        "specificity": {**spec.stats.as_dict(), "llm": llm},
        "negatives": {
            "rules": dict(sorted(result.negative_rules.items())),
            "zero_box_rules": list(negatives.ZERO_RULES),
            "flag_categories": dict(sorted(result.flag_categories.items())),
        },
        # paper 002 speaks of 29 predefined regions; which of the silver set's regions
        # sentences really use is a property of the data, so it is counted, not assumed
        "regions": {
            "linked": len(result.region_links),
            "kept": len(result.region_kept),
            "never_linked": [r for r in BBOX_NAMES if r not in result.region_links],
        },
        "non_grounding": dict(sorted(result.report_counts.items())),
        "leakage": result.leakage.summary(),
        "sources": _sources(result),
        "shards": [vars(s) for s in result.shards],
        "errors": [{"file": f, "error": e} for f, e in result.errors],
    }
    write_json_atomic(result.out / "manifest.json", manifest)
    return manifest


def write_report(result: BuildResult) -> None:
    folder = result.out / "report"
    folder.mkdir(exist_ok=True)
    funnel = result.funnel.as_list()
    write_csv(
        folder / "funnel.csv",
        ["stage", "images", "image_phrase_pairs", "sentence_box_pairs", "zero_box_rows"],
        [
            [
                f["stage"],
                f["images"],
                f["image_phrase_pairs"],
                f["sentence_box_pairs"],
                f["zero_box_rows"],
            ]
            for f in funnel
        ],
    )
    t2 = table2(result)
    write_csv(
        folder / "table2.csv",
        [
            "split",
            "images",
            "image_phrase_pairs",
            "boxes",
            "pct_0",
            "pct_1",
            "pct_2plus",
            "sentence_length_mean",
            "sentence_length_sd",
        ],
        [
            [
                name,
                s["images"],
                s["image_phrase_pairs"],
                s["boxes"],
                *s["pct_0_1_2plus"],
                s["sentence_length_mean"],
                s["sentence_length_sd"],
            ]
            for name, s in t2.items()
        ],
    )
    edges = result.containment.edges()
    write_csv(
        folder / "hierarchy_check.csv",
        [
            "parent",
            "child",
            "images_with_both",
            "child_inside_parent",
            "violations",
            "share_inside",
        ],
        [
            [
                e[k]
                for k in (
                    "parent",
                    "child",
                    "images_with_both",
                    "child_inside_parent",
                    "violations",
                    "share_inside",
                )
            ]
            for e in edges
        ],
    )
    write_csv(
        folder / "hierarchy_candidates.csv",
        ["parent", "child", "images_with_both", "share_inside"],
        [
            [c["parent"], c["child"], c["images_with_both"], c["share_inside"]]
            for c in result.containment.candidates()
        ],
    )
    write_csv(
        folder / "excluded_images.csv",
        ["dicom_id", "study_id", "split", "reason"],
        [[e["dicom_id"], e["study_id"], e["split"], e["reason"]] for e in result.excluded],
    )
    write_csv(
        folder / "leakage.csv",
        ["study_id", "subject_id", "dicom_id", "split", "matched_by"],
        [
            [e["study_id"], e["subject_id"], e["dicom_id"], e["split"], e["matched_by"]]
            for e in sorted(result.leakage.excluded, key=lambda e: (e["study_id"], e["dicom_id"]))
        ],
    )
    write_csv(folder / "errors.csv", ["file", "error"], [list(e) for e in result.errors])
    if result.images is not None:
        result.images.publish(folder)
    else:  # an earlier --embed-images build's list would describe images this build lacks
        (folder / ISSUES_FILE).unlink(missing_ok=True)
    write_csv(
        folder / "regions.csv",
        ["region", "sentences_linked", "sentences_kept"],
        [
            [region, result.region_links[region], result.region_kept[region]]
            for region in region_order([*result.region_links, *result.region_kept])
        ],
    )
    write_csv(
        folder / "negative_rules.csv",
        ["rule", "sentences", "zero_boxes"],
        [
            [rule, n, rule in negatives.ZERO_RULES]
            for rule, n in sorted(result.negative_rules.items())
        ],
    )
    if result.specificity.mode == "both":
        write_csv(
            folder / "specificity_disagreements.csv",
            ["sentence", "regions", "llm_keep", "hierarchy_keep"],
            [
                [d[k] for k in ("sentence", "regions", "llm_keep", "hierarchy_keep")]
                for d in result.specificity.stats.disagreements
            ],
        )
