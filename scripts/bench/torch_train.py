"""PyTorch baseline: training step time and epoch time of the reference TST at batch 32.

Run: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/bench/torch_train.py [--threads 2] [--batch 32] [--epochs 1]

Prints one JSON line: {"bench": "torch_train", ..., "results": {dataset: {"n_train", "steps_per_epoch",
"step_ms_median", "epoch_s", "final_loss"}}}. The published setup: random init (seed 0), RAdam
(lr 1e-3, weight decay 1e-4), cross-entropy, dropout 0.1, train mode (BatchNorm batch statistics),
shuffled TRAIN split (JapaneseVowels = the _eq_ file), dense class indices. Inputs are z-scored per
channel with TRAIN statistics (timing does not depend on it; it keeps LSST's loss finite).
The epoch time includes shuffling and batching; step_ms_median is the median of the epoch's steps
(forward + backward + optimiser step).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from tst_reference import DATASETS_DIR, REFERENCE, TST, load_ts, pad_batch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = {}
    for stem, (folder, _, train_file) in REFERENCE.items():
        cases, labels = load_ts(DATASETS_DIR / folder / train_file)
        seq_len = max(c.shape[1] for c in cases)
        x_np, _ = pad_batch(cases, seq_len)
        x = torch.tensor(x_np, dtype=torch.float32)
        x = (x - x.mean(dim=(0, 1))) / (x.std(dim=(0, 1)) + 1e-8)
        classes = sorted(set(labels), key=lambda s: int(s))
        y = torch.tensor([classes.index(s) for s in labels])
        torch.manual_seed(0)
        model = TST(x.shape[2], seq_len, len(classes))
        model.train()
        opt = torch.optim.RAdam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        gen = torch.Generator().manual_seed(0)

        def step(xb, yb):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            return float(loss)

        step(x[: args.batch], y[: args.batch])  # warm-up
        step_times, epoch_times, loss = [], [], float("nan")
        for _ in range(args.epochs):
            t_epoch = time.perf_counter()
            order = torch.randperm(len(x), generator=gen)
            for i in range(0, len(x), args.batch):
                idx = order[i:i + args.batch]
                t0 = time.perf_counter()
                loss = step(x[idx], y[idx])
                step_times.append(time.perf_counter() - t0)
            epoch_times.append(time.perf_counter() - t_epoch)
        results[folder] = {"n_train": len(x), "steps_per_epoch": -(-len(x) // args.batch),
                           "step_ms_median": 1000 * statistics.median(step_times),
                           "epoch_s": min(epoch_times), "final_loss": loss}
    print(json.dumps({"bench": "torch_train", "threads": args.threads, "batch": args.batch,
                      "torch": torch.__version__, "results": results}))


if __name__ == "__main__":
    main()
