"""Attention maps for the attention tasks: eager ``output_attentions`` against the last-row probe.

A random-weight LLaVA-1.5-shaped model (CLIP 336 px / 14 px patches: 576 image tokens; a
Llama text model of ``--layers`` layers and ``--heads`` heads) answers ``hf-mllm.attend`` for
``--requests`` requests (each with its contrast prompt: twice as many rows) at batch size
``--batch``. Each mode runs in its own process, so its peak resident memory is its own; the
script prints wall time, peak RSS above the loaded model, the ratios, and the largest
difference between the two modes' maps (they must agree).

    python benchmarks/attention_maps.py [--layers 16 --heads 16 --hidden 512 --batch 4]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(path: str, mode: str, requests: int, batch: int, out: str) -> None:
    import numpy as np
    from PIL import Image

    from medbench.evaluators.models import load_model
    from medbench.evaluators.models.base import EvalRequest

    model = load_model("hf-mllm", {"pretrained": path, "attention_maps": mode})
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rng = np.random.default_rng(0)
    reqs = []
    for i in range(requests):
        buf = io.BytesIO()
        pixels = rng.integers(0, 256, (300 + 7 * i, 400, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(buf, "PNG")
        question = f"Question {i}: where is the lesion in this image, and how large is it?"
        reqs.append(
            EvalRequest(
                f"s{i}",
                question,
                (buf.getvalue(),),
                {},
                output="attention",
                contrast_prompt="Write a general description of the image.",
            )
        )
    start = time.perf_counter()
    maps = []
    for k in range(0, requests, batch):
        maps += model.attend(reqs[k : k + batch])
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    np.save(out, np.stack([m.maps for m in maps]))
    print(json.dumps({"wall_s": wall, "extra_rss_mib": (peak - base) / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=16)
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, mode, requests, batch, out = args.child
        child(path, mode, int(requests), int(batch), out)
        return

    import numpy as np

    from medbench.testing.tiny_models import build_tiny_llava

    with tempfile.TemporaryDirectory() as tmp:
        path = build_tiny_llava(
            Path(tmp) / "model",
            image_size=336,
            hidden_size=args.hidden,
            num_layers=args.layers,
            num_heads=args.heads,
            initializer_range=0.02,  # a trained model's scale (the tests' 0.2 amplifies noise)
        )
        results = {}
        for mode in ("eager", "probe"):
            out = str(Path(tmp) / f"{mode}.npy")
            cmd = [sys.executable, __file__, "--child", str(path), mode]
            cmd += [str(args.requests), str(args.batch), out]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
            results[mode]["maps"] = np.load(out)
    eager, probe = results["eager"], results["probe"]
    diff = float(np.abs(eager["maps"] - probe["maps"]).max())
    relative = diff / float(np.abs(eager["maps"]).max())
    print(
        f"{args.requests} requests x 2 prompts, batch {args.batch}, {args.layers} layers x "
        f"{args.heads} heads, 576 image tokens"
    )
    print(f"{'mode':<6} {'wall s':>8} {'extra RSS MiB':>14}")
    for mode in ("eager", "probe"):
        r = results[mode]
        print(f"{mode:<6} {r['wall_s']:>8.2f} {r['extra_rss_mib']:>14.0f}")
    print(
        f"eager/probe: time {eager['wall_s'] / probe['wall_s']:.2f}x, "
        f"memory {eager['extra_rss_mib'] / max(probe['extra_rss_mib'], 1.0):.2f}x; "
        f"largest map difference {diff:.2e} ({relative:.1e} of the largest value)"
    )


if __name__ == "__main__":
    main()
