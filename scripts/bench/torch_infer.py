"""PyTorch baseline: inference throughput of the three reference models on their TEST splits.

Run: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/bench/torch_infer.py [--threads 2] [--batch 256] [--repeats 5] [--serve]

With --serve (used by bench/infer.ts to interleave PyTorch passes with its own on a shared, noisy
machine): loads the three models, warms up, prints one JSON line {"ready": {dataset: {"n",
"accuracy"}}}, then for each stdin line naming a dataset times one full pass over its TEST split
and prints {"dataset", "seconds"}; an empty line or EOF ends it.

Otherwise prints one JSON line: {"bench": "torch_infer", "threads", "batch", "torch", "results": {dataset:
{"n", "samples_per_s", "seconds", "accuracy"}}}. Eval mode under torch.inference_mode (PyTorch's
fused encoder fast path is used, as any user would get); the best of `repeats` full passes over the
TEST split after one warm-up pass. Accuracy is printed so a broken model cannot pass unnoticed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))

import torch  # noqa: E402

from tst_reference import DATASETS_DIR, REFERENCE, load_reference, load_ts, pad_batch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cases = {}
    for stem, (folder, test_file, _) in REFERENCE.items():
        model, _ = load_reference(stem)
        series, labels = load_ts(DATASETS_DIR / folder / test_file)
        x_np, _ = pad_batch(series, model.pos_enc.shape[1])
        x = torch.tensor(x_np, dtype=torch.float32)
        y = torch.tensor([int(s) for s in labels])
        batches = [x[i:i + args.batch] for i in range(0, len(x), args.batch)]
        with torch.inference_mode():
            pred = torch.cat([model(b).argmax(1) for b in batches])  # warm-up + accuracy
        cases[folder] = (model, batches, len(x), float((pred == y).float().mean()))

    def one_pass(folder: str) -> float:
        model, batches, _, _ = cases[folder]
        with torch.inference_mode():
            t0 = time.perf_counter()
            for b in batches:
                model(b)
            return time.perf_counter() - t0

    if args.serve:
        print(json.dumps({"ready": {k: {"n": c[2], "accuracy": c[3]} for k, c in cases.items()},
                          "torch": torch.__version__}), flush=True)
        for line in sys.stdin:
            folder = line.strip()
            if not folder:
                break
            print(json.dumps({"dataset": folder, "seconds": one_pass(folder)}), flush=True)
        return
    results = {}
    for folder, (_, _, n, accuracy) in cases.items():
        best = min(one_pass(folder) for _ in range(args.repeats))
        results[folder] = {"n": n, "samples_per_s": n / best, "seconds": best, "accuracy": accuracy}
    print(json.dumps({"bench": "torch_infer", "threads": args.threads, "batch": args.batch,
                      "torch": torch.__version__, "results": results}))


if __name__ == "__main__":
    main()
