"""VGMED build throughput: medbench's per-case extraction against a load floor and a naive loop.

Generates (once, cached under ``--workdir``) synthetic CT cases written as ``.nii.gz``:
half AMOS-like (image + one uint8 label map with 15 abdominal organs, LPS file axes, read by
a ``PairedVolumeSource``), half TotalSegmentator-like (image + one binary uint8 mask file per
structure, ~100 files, RAS file axes, read by a ``PerStructureSource``). Volumes are
phantoms with CT-like HU (air, fat, soft tissue, lungs, spine, organs, Gaussian noise), so
gzip ratios are those of real CT, not of noise or of zeros. Then, in one run, it measures:

(a) the floor: load every image and label file once (nibabel ``dataobj``, zlib), and the
    same with medbench's ``read_nifti`` (python-isal);
(b) medbench ``extract_case`` over all cases, serially (what ``--workers 1`` runs);
(c) a naive converter: nibabel load, then per label per slice ``(slice == v).sum()`` to find
    the largest slice, then box and PNG of that slice;
(d) the same extraction through ``run_tasks`` with 2 worker processes (what ``--workers 2``
    runs, spawn start-up included);
(e) peak resident set of each of those worker processes vs the largest decompressed
    image + label pair,

and prints the ratios against the targets of the issue. The nibabel floor is timed inside
the naive pass (its loads are the very same calls), which saves one pass over the files.
Run ``--help`` for options.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import isal.igzip as igzip
import nibabel as nib
import numpy as np
from PIL import Image

from medbench.builders.executor import run_tasks
from medbench.builders.vgmed.case import CaseRef
from medbench.builders.vgmed.extract import ExtractConfig, extract_case
from medbench.builders.vgmed.families import PairedVolumeSource, PerStructureSource
from medbench.builders.vgmed.spec import SourceSpec
from medbench.imaging.intensity import ct_window
from medbench.imaging.nifti import read_nifti

DATA_VERSION = 1  # bump when the generator changes, so cached data is regenerated
SEED = 1234

# Targets of the issue: (name, ratio key, comparison, threshold).
TARGETS = [
    ("medbench / floor (nibabel)", "medbench_over_floor", "<=", 1.5),
    ("naive / medbench", "naive_over_medbench", ">=", 3.0),
    ("workers=1 / workers=2", "speedup_workers2", ">=", 1.7),
    ("peak RSS per worker / largest pair", "peak_rss_over_pair", "<=", 3.0),
]

AMOS_LABELS = [
    "spleen", "right kidney", "left kidney", "gallbladder", "esophagus", "liver", "stomach",
    "aorta", "inferior vena cava", "pancreas", "right adrenal gland", "left adrenal gland",
    "duodenum", "bladder", "prostate/uterus",
]  # fmt: skip
# HU of each AMOS organ (index = label value - 1).
AMOS_HU = [45, 30, 30, 10, 40, 60, 25, 180, 150, 40, 30, 30, 35, 5, 40]

_TS_ORGANS = [
    "spleen", "kidney_right", "kidney_left", "gallbladder", "liver", "stomach", "pancreas",
    "adrenal_gland_right", "adrenal_gland_left", "lung_upper_lobe_left",
    "lung_lower_lobe_left", "lung_upper_lobe_right", "lung_middle_lobe_right",
    "lung_lower_lobe_right", "esophagus", "trachea", "thyroid_gland", "small_bowel",
    "duodenum", "colon", "urinary_bladder", "prostate", "kidney_cyst_left",
    "kidney_cyst_right", "sacrum", "heart", "aorta", "pulmonary_vein",
    "brachiocephalic_trunk", "subclavian_artery_right", "subclavian_artery_left",
    "common_carotid_artery_right", "common_carotid_artery_left", "superior_vena_cava",
    "inferior_vena_cava", "portal_vein_and_splenic_vein", "iliac_artery_left",
    "iliac_artery_right", "iliac_vena_left", "iliac_vena_right", "humerus_left",
    "humerus_right", "scapula_left", "scapula_right", "clavicula_left", "clavicula_right",
    "femur_left", "femur_right", "hip_left", "hip_right", "spinal_cord", "gluteus_maximus_left",
]  # fmt: skip
TS_NAMES = (
    _TS_ORGANS
    + [f"vertebrae_{p}{i}" for p, n in (("C", 7), ("T", 12), ("L", 5)) for i in range(1, n + 1)]
    + [f"rib_{side}_{i}" for side in ("left", "right") for i in range(1, 13)]
    + [f"structure_{i:03d}" for i in range(200)]
)


# --------------------------------------------------------------------------------------
# data generation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    cases: int
    slices: int
    size: int
    structures: int

    @property
    def key(self) -> str:
        return (
            f"vgmed-bench-v{DATA_VERSION}-c{self.cases}-z{self.slices}-n{self.size}"
            f"-s{self.structures}-seed{SEED}"
        )


@dataclass(frozen=True)
class Blob:
    """An ellipsoid structure: label value, HU, centre and radii in voxels (z, y, x)."""

    value: int
    hu: float
    center: tuple[float, float, float]
    radii: tuple[float, float, float]


def _blobs(
    rng: np.random.Generator, count: int, hus: list[float], size: int, slices: int, absent: float
) -> list[Blob]:
    """``count`` structures inside the body: the first 15 organ-sized, the rest small;
    a fraction ``absent`` lies outside the scanned z range (empty masks, as in TS)."""
    blobs = []
    for i in range(count):
        large = i < 15
        rz = slices * (rng.uniform(0.12, 0.35) if large else rng.uniform(0.03, 0.12))
        ry, rx = size * rng.uniform(0.05, 0.11, 2) if large else size * rng.uniform(0.01, 0.04, 2)
        cz = rng.uniform(0.1, 0.9) * slices
        if not large and rng.random() < absent:
            cz = -2 * rz - 1 if rng.random() < 0.5 else slices + 2 * rz + 1
        cy = size / 2 + rng.uniform(-0.17, 0.17) * size
        cx = size / 2 + rng.uniform(-0.25, 0.25) * size
        blobs.append(Blob(i + 1, float(hus[i % len(hus)]), (cz, cy, cx), (rz, ry, rx)))
    return blobs


def phantom(
    rng: np.random.Generator, size: int, slices: int, blobs: list[Blob]
) -> tuple[np.ndarray, np.ndarray]:
    """(image int16, label map uint8), both (Z, H, W): a CT-like torso with labelled organs."""
    image = np.empty((slices, size, size), dtype=np.int16)
    labels = np.zeros((slices, size, size), dtype=np.uint8)
    yy = np.arange(size, dtype=np.float32)[:, None]
    xx = np.arange(size, dtype=np.float32)[None, :]
    c = size / 2
    for z in range(slices):
        t = z / max(slices - 1, 1)
        ax, ay = size * (0.40 + 0.03 * np.sin(3 * t)), size * (0.28 + 0.02 * np.cos(2 * t))
        r2 = ((xx - c) / ax) ** 2 + ((yy - c) / ay) ** 2
        sl = np.full((size, size), -1000.0, dtype=np.float32)
        sl[r2 <= 1.0] = -100.0  # subcutaneous fat
        sl[r2 <= 0.85] = 40.0  # muscle / soft tissue
        if t > 0.55:  # lungs in the upper part of the scan
            for side in (-1, 1):
                lung = ((xx - c - side * 0.17 * size) / (0.13 * size)) ** 2 + (
                    (yy - c + 0.02 * size) / (0.19 * size)
                ) ** 2
                sl[lung <= 1.0] = -850.0
        spine = (xx - c) ** 2 + (yy - c - 0.17 * size) ** 2
        sl[spine <= (0.045 * size) ** 2] = 450.0
        sl[spine <= (0.03 * size) ** 2] = 250.0
        lab = labels[z]
        for b in blobs:
            dz = (z - b.center[0]) / b.radii[0]
            if abs(dz) >= 1.0:
                continue
            shrink = float(np.sqrt(1.0 - dz * dz))
            ry, rx = b.radii[1] * shrink, b.radii[2] * shrink
            y0, y1 = max(int(b.center[1] - ry), 0), min(int(b.center[1] + ry) + 2, size)
            x0, x1 = max(int(b.center[2] - rx), 0), min(int(b.center[2] + rx) + 2, size)
            if y0 >= y1 or x0 >= x1:
                continue
            inside = ((yy[y0:y1] - b.center[1]) / max(ry, 0.5)) ** 2 + (
                (xx[:, x0:x1] - b.center[2]) / max(rx, 0.5)
            ) ** 2 <= 1.0
            lab[y0:y1, x0:x1][inside] = b.value
            sl[y0:y1, x0:x1][inside] = b.hu
        sl += rng.standard_normal((size, size), dtype=np.float32) * 12.0
        image[z] = np.rint(sl).astype(np.int16)
    return image, labels


def write_nifti(path: Path, zyx: np.ndarray, affine: np.ndarray) -> None:
    """Write a (Z, H, W) array as NIfTI with file axes (i, j, k) = (W, H, Z), gzip level 1."""
    img = nib.Nifti1Image(zyx.T, affine)
    img.header.set_xyzt_units("mm")
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(igzip.compress(img.to_bytes(), compresslevel=1))
    tmp.replace(path)


def make_specs() -> tuple[PairedVolumeSource, PerStructureSource]:
    amos = PairedVolumeSource(
        id="AMOS-like",
        title="AMOS-like synthetic CT (benchmark)",
        modality="CT",
        body_part="abdomen",
        license="CC-BY-4.0",
        anchor="amos22",
        label_glob="amos22/labelsTr/*.nii.gz",
        image_from_label=(r"labelsTr", "imagesTr"),
        labels={str(i + 1): name for i, name in enumerate(AMOS_LABELS)},
        ct_window="abdomen",
    )
    ts = PerStructureSource(
        id="TS-like",
        title="TotalSegmentator-like synthetic CT (benchmark)",
        modality="CT",
        body_part="whole body",
        license="CC-BY-4.0",
        anchor="Totalsegmentator_dataset_v201",
        case_glob="Totalsegmentator_dataset_v201/s*",
        image="ct.nii.gz",
        mask_glob="segmentations/*.nii.gz",
        ct_window="abdomen",
    )
    return amos, ts


def generate(root: Path, p: Params, log: Callable[[str], None]) -> None:
    """Write the cases under ``root`` unless a finished copy is already there."""
    done = root / "COMPLETE"
    if done.exists():
        log(f"using cached data in {root}")
        return
    if root.exists():
        shutil.rmtree(root)
    start = time.perf_counter()
    n_amos = (p.cases + 1) // 2
    spacing_xy, spacing_z = 0.78 * 512 / p.size, 2.5
    # AMOS-like: dcm2niix-style LPS file axes (no flips on reorientation).
    lps = np.diag([-spacing_xy, -spacing_xy, spacing_z, 1.0])
    # TS-like: RAS file axes (x and y are flipped on reorientation to LPS).
    ras = np.diag([spacing_xy, spacing_xy, spacing_z, 1.0])
    ts_hus = [float(v) for v in np.random.default_rng(SEED).uniform(-50, 300, 256)]
    for i in range(p.cases):
        rng = np.random.default_rng([SEED, i])
        slices = max(4, p.slices + int(rng.integers(-p.slices // 10, p.slices // 10 + 1)))
        if i < n_amos:
            blobs = _blobs(rng, 15, AMOS_HU, p.size, slices, absent=0.0)
            if i % 2:  # prostate/uterus missing in some cases
                blobs = blobs[:-1]
            image, labels = phantom(rng, p.size, slices, blobs)
            base = root / "AMOS-like" / "amos22"
            name = f"amos_{i + 1:04d}.nii.gz"
            write_nifti(base / "imagesTr" / name, image, lps)
            write_nifti(base / "labelsTr" / name, labels, lps)
        else:
            blobs = _blobs(rng, p.structures, ts_hus, p.size, slices, absent=0.2)
            image, labels = phantom(rng, p.size, slices, blobs)
            case = root / "TS-like" / "Totalsegmentator_dataset_v201" / f"s{i + 1:04d}"
            for b in blobs:
                mask = (labels == b.value).view(np.uint8)
                write_nifti(case / "segmentations" / f"{TS_NAMES[b.value - 1]}.nii.gz", mask, ras)
            write_nifti(case / "ct.nii.gz", image, ras)
        log(f"  generated case {i + 1}/{p.cases} ({time.perf_counter() - start:.0f} s)")
    done.write_text(json.dumps(p.__dict__))


# --------------------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    family: str  # "AMOS-like" or "TS-like"
    spec: SourceSpec
    dataset_dir: Path
    ref: CaseRef

    def paths(self) -> list[Path]:
        return [self.dataset_dir / path for _, path in self.ref.files]


def discover(root: Path) -> list[Case]:
    cases = []
    for spec in make_specs():
        dataset_dir = root / spec.id
        refs, skipped = spec.discover(dataset_dir)
        if skipped:
            raise RuntimeError(f"{spec.id}: unexpected skips during discovery: {skipped[:3]}")
        cases += [Case(spec.id, spec, dataset_dir, ref) for ref in refs]
    return cases


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def extract_task(task: tuple[SourceSpec, Path, CaseRef, ExtractConfig]) -> dict:
    """One case through medbench (run in the main process or in a pool worker)."""
    spec, dataset_dir, ref, config = task
    start_rss = _rss_bytes()
    start = time.perf_counter()
    result = extract_case(spec, dataset_dir, ref, config)
    seconds = time.perf_counter() - start
    if result.error:
        raise RuntimeError(f"{spec.id}/{ref.case_id}: {result.error}")
    return {
        "family": spec.id,
        "case": ref.case_id,
        "pid": os.getpid(),
        "seconds": seconds,
        "start_rss": start_rss,
        # Linux reports ru_maxrss in KiB.
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "candidates": len(result.candidates),
        "png_bytes": sum(len(v) for v in result.images.values()),
    }


def time_per_family(cases: list[Case], fn: Callable[[Case], object]) -> dict[str, float]:
    times: dict[str, float] = {}
    for case in cases:
        start = time.perf_counter()
        fn(case)
        times[case.family] = times.get(case.family, 0.0) + time.perf_counter() - start
    times["total"] = sum(times.values())
    return times


def load_medbench(case: Case) -> int:
    return sum(read_nifti(path).data.nbytes for path in case.paths())


def encode_png(pixels: np.ndarray, level: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


def naive_case(case: Case, level: int, load_seconds: list[float]) -> tuple[int, int]:
    """The usual public-converter loop: per label, per slice, ``(slice == v).sum()``.

    Its nibabel loads are exactly the floor's loads, so their time is added to
    ``load_seconds`` and the floor needs no separate pass over the files."""

    def load(path: Path) -> np.ndarray:
        start = time.perf_counter()
        array = np.asanyarray(nib.load(path).dataobj)
        load_seconds.append(time.perf_counter() - start)
        return array

    window = ct_window(case.spec.ct_window or "abdomen")
    if isinstance(case.spec, PairedVolumeSource):
        label_files = [(case.ref.file("label"), sorted(int(v) for v in case.spec.labels))]
    else:
        label_files = [(path, [1]) for _, path in case.ref.files_for("mask:")]
    image = load(case.dataset_dir / case.ref.file("image"))
    boxes, png_bytes = 0, 0
    for path, values in label_files:
        label = load(case.dataset_dir / path)
        for v in values:
            best_k, best_area = -1, 0
            for k in range(label.shape[2]):
                area = int((label[:, :, k] == v).sum())
                if area > best_area:
                    best_k, best_area = k, area
            if best_k < 0:
                continue
            ys, xs = np.where(v == label[:, :, best_k].T)
            _box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
            pixels = image[:, :, best_k].T.astype(np.float32)
            pixels = (pixels - window.low) * (255.0 / (window.high - window.low))
            pixels = np.clip(pixels, 0, 255).astype(np.uint8)
            png_bytes += len(encode_png(np.ascontiguousarray(pixels), level))
            boxes += 1
    return boxes, png_bytes


def largest_pair_bytes(cases: list[Case]) -> tuple[int, str]:
    """Largest decompressed image + one label file (the map, or one structure's mask)."""
    best, where = 0, ""
    for case in cases:
        image = nib.load(case.dataset_dir / case.ref.file("image"))
        labels = [nib.load(p) for p in case.paths()[1:]]
        size = _nbytes(image) + max(_nbytes(lab) for lab in labels)
        if size > best:
            best, where = size, f"{case.family}/{case.ref.case_id}"
    return best, where


def _nbytes(img: nib.Nifti1Image) -> int:
    return int(np.prod(img.shape)) * img.header.get_data_dtype().itemsize


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=20, help="cases (half AMOS-like, half TS-like)")
    ap.add_argument("--slices", type=int, default=150, help="slices per volume (±10%%)")
    ap.add_argument("--size", type=int, default=512, help="in-plane size (size × size)")
    ap.add_argument("--structures", type=int, default=100, help="mask files per TS-like case")
    ap.add_argument("--workers", type=int, default=2, help="workers of the parallel run (d)")
    ap.add_argument("--workdir", type=Path, help="where generated data is cached")
    ap.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    ap.add_argument("--json-out", type=Path, help="write all numbers as JSON here")
    args = ap.parse_args(argv)
    if args.quick:
        args.cases, args.slices, args.size, args.structures = 4, 24, 96, 20
    return args


def verdict(value: float, op: str, threshold: float) -> str:
    ok = value <= threshold if op == "<=" else value >= threshold
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    params = Params(args.cases, args.slices, args.size, args.structures)
    workdir = args.workdir or Path(tempfile.gettempdir()) / "medbench-bench"
    root = workdir / params.key

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    generate(root, params, log)
    cases = discover(root)
    files = [p for c in cases for p in c.paths()]
    on_disk = sum(p.stat().st_size for p in files)
    for p in files:  # warm the page cache so the first measurement is not penalised
        p.read_bytes()
    config = ExtractConfig()
    tasks = [(c.spec, c.dataset_dir, c.ref, config) for c in cases]
    families = sorted({c.family for c in cases})

    log("(a) floor: medbench read_nifti ...")
    floor_isal = time_per_family(cases, load_medbench)

    log("(b) medbench extract_case, workers=1 ...")
    start = time.perf_counter()
    serial = list(run_tasks(extract_task, tasks, 1))
    wall_1 = time.perf_counter() - start
    medbench = {f: sum(r["seconds"] for r in serial if r["family"] == f) for f in families}
    medbench["total"] = wall_1

    log("(c) naive per-label per-slice loop, and (a) floor: nibabel load ...")
    naive_out: dict[str, list[tuple[int, int]]] = {}
    floor_nib: dict[str, float] = {}

    def run_naive(case: Case) -> None:
        loads: list[float] = []
        naive_out.setdefault(case.family, []).append(
            naive_case(case, config.png_compress_level, loads)
        )
        floor_nib[case.family] = floor_nib.get(case.family, 0.0) + sum(loads)

    naive = time_per_family(cases, run_naive)
    floor_nib["total"] = sum(floor_nib.values())

    log(f"(d) medbench, workers={args.workers} ...")
    start = time.perf_counter()
    parallel = list(run_tasks(extract_task, tasks, args.workers))
    wall_n = time.perf_counter() - start

    workers: dict[int, dict[str, int]] = {}
    for r in parallel:
        w = workers.setdefault(r["pid"], {"peak": 0, "baseline": r["start_rss"], "cases": 0})
        w["peak"] = max(w["peak"], r["peak_rss"])
        w["baseline"] = min(w["baseline"], r["start_rss"])
        w["cases"] += 1
    peak = max(w["peak"] for w in workers.values())
    baseline = min(w["baseline"] for w in workers.values())
    pair, pair_case = largest_pair_bytes(cases)
    decompressed = sum(_nbytes(nib.load(p)) for p in files)

    ratios = {
        "medbench_over_floor": medbench["total"] / floor_nib["total"],
        "medbench_over_floor_isal": medbench["total"] / floor_isal["total"],
        "naive_over_medbench": naive["total"] / medbench["total"],
        "speedup_workers2": wall_1 / wall_n,
        "peak_rss_over_pair": peak / pair,
        "peak_rss_above_baseline_over_pair": (peak - baseline) / pair,
    }

    mib = 2**20
    counts = {f: sum(1 for c in cases if c.family == f) for f in families}
    print()
    print(
        f"{len(cases)} cases ({', '.join(f'{n} {f}' for f, n in counts.items())}), "
        f"{args.size}x{args.size}x~{args.slices}, {len(files)} files, "
        f"{on_disk / mib:.0f} MiB on disk, {decompressed / mib:.0f} MiB decompressed"
    )
    cols = [*families, "total"]
    print(f"{'seconds':<52}" + "".join(f"{c:>11}" for c in cols))

    def row(name: str, values: dict[str, float]) -> None:
        cells = "".join(f"{values[c]:>11.2f}" if c in values else f"{'':>11}" for c in cols)
        print(f"{name:<52}{cells}")

    row("(a) floor: nibabel load (zlib)", floor_nib)
    row("(a) floor: medbench read_nifti (isal)", floor_isal)
    row("(b) medbench extract_case, workers=1", medbench)
    row("(c) naive per-label/per-slice (nibabel+scan+PNG)", naive)
    row(
        "(c) naive minus its load (scan + box + PNG only)",
        {c: naive[c] - floor_nib[c] for c in cols},
    )
    row(f"(d) medbench run_tasks, workers={args.workers} (wall)", {"total": wall_n})
    cand = sum(r["candidates"] for r in serial)
    nboxes = sum(b for outs in naive_out.values() for b, _ in outs)
    print(f"candidates: medbench {cand}, naive {nboxes} boxes")
    print(
        "(e) peak RSS per worker: "
        + ", ".join(f"{w['peak'] / mib:.0f} MiB ({w['cases']} cases)" for w in workers.values())
        + f"; idle worker after imports {baseline / mib:.0f} MiB; largest decompressed "
        f"image+label pair {pair / mib:.0f} MiB ({pair_case})"
    )
    print()
    print(f"{'target':<40}{'value':>8}  {'goal':<8}result")
    results = {}
    for name, key, op, threshold in TARGETS:
        result = verdict(ratios[key], op, threshold)
        results[key] = result
        print(f"{name:<40}{ratios[key]:>7.2f}x  {op} {threshold:<5}{result}")
    print(
        f"{'  (medbench / floor with isal reader)':<40}{ratios['medbench_over_floor_isal']:>7.2f}x"
    )
    print(
        f"{'  (peak RSS minus idle worker / pair)':<40}"
        f"{ratios['peak_rss_above_baseline_over_pair']:>7.2f}x"
    )

    if args.json_out:
        payload = {
            "params": {**params.__dict__, "workers": args.workers, "data": str(root)},
            "files": len(files),
            "bytes_on_disk": on_disk,
            "bytes_decompressed": decompressed,
            "seconds": {
                "floor_nibabel": floor_nib,
                "floor_medbench_reader": floor_isal,
                "medbench_workers1": medbench,
                "naive": naive,
                "medbench_workers_n": wall_n,
            },
            "per_case_workers1": serial,
            "per_case_workers_n": parallel,
            "workers": {str(k): v for k, v in workers.items()},
            "idle_worker_rss": baseline,
            "peak_rss": peak,
            "largest_pair_bytes": pair,
            "largest_pair_case": pair_case,
            "candidates": cand,
            "naive_boxes": nboxes,
            "ratios": ratios,
            "targets": {k: {"op": op, "threshold": t} for _, k, op, t in TARGETS},
            "results": results,
        }
        args.json_out.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
