"""``medbench build coco-ref``: the command (registered in ``medbench.builders.cli``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from medbench.builders.coco_ref.build import BuildError, CocoBuildConfig, build_coco_ref
from medbench.builders.coco_ref.layout import DEFAULT_MIN_PIXELS, KNOWN_SPLITS
from medbench.builders.coco_ref.questions import CocoAttributeSource
from medbench.builders.vgmed.sampling import PAPER_TARGET
from medbench.console import err_console, print_json, stage_progress
from medbench.llm import options
from medbench.llm.runner import LLMClient

MAX_PRINTED_SKIPS = 20


def demo_coco_root(out: Path) -> Path:
    """Write the COCO replica once under ``<out>/.work/demo-coco``."""
    from medbench.demo import coco

    root = out / ".work" / "demo-coco"
    marker = root / ".complete"
    if not marker.exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        coco.write(root)
        marker.write_text("ok\n")
    return root


def llm_summary(source: CocoAttributeSource) -> str:
    stats = source.summary()
    asked = f"{stats['unique_labels']} categories × {stats['requests_per_label']}"
    if stats["backend"] == "template":
        return f"attribute questions: offline templates, {asked}"
    return (
        f"attribute questions: {stats['backend']}:{stats['model']}, {asked} requests, "
        f"{stats['cache_hits']} from cache, {stats['calls']} calls, "
        f"{stats['failures']} failed ({len(stats['labels_on_templates'])} categories on "
        f"templates), {stats['prompt_tokens'] + stats['completion_tokens']} tokens"
    )


def coco_ref_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output dataset folder.")],
    coco_root: Annotated[
        Path | None,
        typer.Option(
            "--coco-root",
            help="COCO folder as downloaded: annotations/instances_<split>.json and "
            "<split>/<file_name>.jpg, for splits train/val 2014/2017.",
            envvar="MEDBENCH_COCO_ROOT",
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Build from the embedded COCO layout replica.")
    ] = False,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help=f"COCO split to read. Default: the first present of {', '.join(KNOWN_SPLITS)}.",
        ),
    ] = None,
    target: Annotated[
        int,
        typer.Option(help="Image–box pairs to sample (two questions each); VGMED's count.", min=1),
    ] = PAPER_TARGET,
    seed: Annotated[int, typer.Option(help="Seed for sampling and question choice.")] = 0,
    min_pixels: Annotated[
        float,
        typer.Option(help="Minimum box area (w × h, px²); smaller boxes are skipped.", min=0),
    ] = DEFAULT_MIN_PIXELS,
    questions_per_label: Annotated[
        int,
        typer.Option(
            help="Attribute-question requests per category (sampling seeds 0..K-1 at "
            "temperature 0.7 when K > 1; pairs pick among the distinct answers).",
            min=1,
        ),
    ] = 1,
    workers: Annotated[int, typer.Option(help="Threads decoding the sampled images.", min=1)] = 4,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
    llm: options.Backend = None,
    llm_base_url: options.BaseUrl = None,
    llm_model: options.Model = None,
    llm_concurrency: options.Concurrency = 32,
    llm_timeout: options.Timeout = 120.0,
    llm_attempts: options.Attempts = 6,
    llm_cache: options.CachePath = None,
    no_llm_cache: options.NoCache = False,
) -> None:
    """Build the COCO reference set: VGMED's question pipeline on COCO image–box pairs.

    Samples as many pairs as VGMED has (stratified by supercategory, then category), each
    with a localization and an attribute question. Attribute questions come from an LLM asked
    once per unique category (see the LLM options); without one, medbench's offline templates
    write them (rows say so). Skipped annotations and images are in report/skipped.csv."""
    if demo == (coco_root is not None):
        err_console.print("[red]error:[/] give exactly one of --coco-root or --demo")
        raise typer.Exit(2)
    try:
        root = demo_coco_root(out) if demo else coco_root
        config = CocoBuildConfig(
            coco_root=root,
            out=out,
            coco_split=split,
            target=target,
            seed=seed,
            min_pixels=min_pixels,
            questions_per_label=questions_per_label,
            workers=workers,
        )
        settings = options.resolve_settings(
            llm,
            llm_base_url,
            llm_model,
            llm_concurrency,
            llm_timeout,
            llm_attempts,
            llm_cache,
            no_llm_cache,
        )
        with (
            stage_progress() as progress,
            LLMClient(settings, seed=seed, progress=progress) as client,
        ):
            source = CocoAttributeSource(client, per_label=questions_per_label)
            result = build_coco_ref(config, attribute_source=source, progress=progress)
    except (BuildError, KeyError, ValueError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        err_console.print(f"[red]error:[/] {message}", soft_wrap=True)
        raise typer.Exit(2) from None

    # crowd regions and tiny boxes are expected by the thousand: counted, not printed
    problems = [s for s in result.skipped if s.kind not in ("iscrowd", "tiny_box")]
    for skip in problems[:MAX_PRINTED_SKIPS]:
        err_console.print(f"[yellow]skipped[/] {skip.line()}", highlight=False, soft_wrap=True)
    if len(problems) > MAX_PRINTED_SKIPS:
        err_console.print(f"… {len(problems) - MAX_PRINTED_SKIPS} more in report/skipped.csv")
    kinds = Counter(s.kind for s in result.skipped)
    err_console.print(
        f"COCO {result.split.name} → {out}: {len(result.selected)} pairs "
        f"({len({c.label for c in result.selected})} categories), {result.rows} rows in "
        f"{len(result.shards)} shard(s); skipped: "
        + (", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none")
        + " (report/skipped.csv)",
        soft_wrap=True,
        highlight=False,
    )
    err_console.print(llm_summary(source), soft_wrap=True, highlight=False)
    if as_json:
        print_json(
            {
                "out": str(out),
                "coco_split": result.split.name,
                "splits_found": result.splits_found,
                "pairs": len(result.selected),
                "rows": result.rows,
                "shards": [vars(s) for s in result.shards],
                "skipped": [vars(s) for s in result.skipped],
                "llm": source.summary(),
            }
        )
