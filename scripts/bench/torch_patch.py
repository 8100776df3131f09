"""PyTorch baselines for a 24-head patching sweep (one direction) over the study's pairs.

Run: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/bench/torch_patch.py [--threads 2] [--repeats 3] [--serve]

With --serve (bench/patch.ts) it prints {"ready": ...} after the checks and then times one pass per
stdin line "study <dataset>" or "batched <dataset>", printing {"dataset", "kind", "seconds"}.

Pairs: ../shared/models/reference/study_pairs.csv (denoise pairs: JapaneseVowels 9, PenDigits 35,
LSST 37), reference checkpoints, raw inputs.

(a) ``study_loop``: the published study's loop. For every pair and every (layer, head): one clean
    run of the source at batch 1 with a forward hook on ``self_attn`` that stores its output, then
    one run of the target at batch 1 whose hook overwrites slice h (16 dims) of that output
    (the study's slice mode). Module hooks only fire off PyTorch's fused eval fast path, i.e. with
    autograd enabled, so this runs as the study's code had to.
(b) ``batched_z``: a batched implementation of TRUE per-head patching (z of head h, before W_O) in
    plain PyTorch under inference_mode: one cached run of all sources and all targets, then per
    layer l one batch of pairs × 8 heads that starts from the targets' cached residual stream at
    layer l (prefix reuse) with the head's z replaced.

Both are checked against the fixtures first ((a) against examples.json slice-mode numbers, (b)
against test/fixtures/patching head_z_probs). Prints one JSON line: {"bench": "torch_patch", ...,
"results": {dataset: {"pairs", "study_loop_pairs_per_s", "batched_z_pairs_per_s"}}}.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from tst_reference import (  # noqa: E402
    DATASETS_DIR,
    EXAMPLES_DATASET,
    LN_EPS,
    REFERENCE,
    REFERENCE_DIR,
    REPO,
    canonical_params,
    load_reference,
    load_ts,
    manual_forward,
    pad_batch,
)

H, L = 8, 3


def study_loop(model, xs: torch.Tensor, xt: torch.Tensor) -> torch.Tensor:
    """[L, H, K] softmax probs of the target with slice h of layer l's self_attn output from the source."""
    out = []
    dh = model.pos_enc.shape[2] // H
    for l in range(L):
        attn = model.transformer_encoder.layers[l].self_attn
        for h in range(H):
            store = {}

            def save(mod, inp, output):
                store["o"] = output[0].detach().clone()

            handle = attn.register_forward_hook(save)
            model(xs)
            handle.remove()
            assert "o" in store, "forward hook did not fire (fused fast path)"

            def patch(mod, inp, output, h=h):
                o = output[0].clone()
                o[..., h * dh:(h + 1) * dh] = store["o"][..., h * dh:(h + 1) * dh]
                return (o, *output[1:])

            handle = attn.register_forward_hook(patch)
            logits = model(xt)
            handle.remove()
            out.append(torch.softmax(logits.detach()[0], -1))
    return torch.stack(out).view(L, H, -1)


def encoder_layer(P: dict, l: int, x: torch.Tensor, z_patch=None) -> torch.Tensor:
    """One post-norm encoder layer; z_patch(z) may replace per-head z (B×S×H×dh)."""
    B, S, D = x.shape
    dh = D // H
    b = f"blocks.{l}."
    q = (x @ P[b + "attn.W_Q"].T + P[b + "attn.b_Q"]).view(B, S, H, dh).transpose(1, 2)
    k = (x @ P[b + "attn.W_K"].T + P[b + "attn.b_K"]).view(B, S, H, dh).transpose(1, 2)
    v = (x @ P[b + "attn.W_V"].T + P[b + "attn.b_V"]).view(B, S, H, dh).transpose(1, 2)
    pattern = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)
    z = (pattern @ v).transpose(1, 2)  # B×S×H×dh
    if z_patch is not None:
        z = z_patch(z)
    attn_out = z.reshape(B, S, D) @ P[b + "attn.W_O"].T + P[b + "attn.b_O"]
    mid = F.layer_norm(x + attn_out, (D,), P[b + "ln1.weight"], P[b + "ln1.bias"], LN_EPS)
    mlp = F.relu(mid @ P[b + "mlp.W_in"].T + P[b + "mlp.b_in"]) @ P[b + "mlp.W_out"].T + P[b + "mlp.b_out"]
    return F.layer_norm(mid + mlp, (D,), P[b + "ln2.weight"], P[b + "ln2.bias"], LN_EPS)


def batched_z(P: dict, xs: torch.Tensor, xt: torch.Tensor) -> torch.Tensor:
    """[pairs, L, H, K] softmax probs of true per-head patching, batched with prefix reuse."""
    n = xs.shape[0]
    _, src = manual_forward(P, xs)
    _, tgt = manual_forward(P, xt)
    heads = torch.arange(H).repeat(n)  # row r patches head r % H of pair r // H
    rows = torch.arange(n * H)
    out = []
    for l in range(L):
        source_z = src[f"blocks.{l}.attn.hook_z"].repeat_interleave(H, dim=0)  # (n*H)×S×H×dh

        def patch(z):
            z = z.clone()
            z[rows, :, heads, :] = source_z[rows, :, heads, :]
            return z

        x = tgt[f"blocks.{l}.hook_resid_pre"].repeat_interleave(H, dim=0)
        x = encoder_layer(P, l, x, patch)
        for m in range(l + 1, L):
            x = encoder_layer(P, m, x)
        logits = x.max(dim=1).values @ P["unembed.W_U"].T + P["unembed.b_U"]
        out.append(torch.softmax(logits, -1).view(n, H, -1))
    return torch.stack(out, dim=1)


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    pairs: dict[str, list[tuple[int, int]]] = {}
    with open(REFERENCE_DIR / "study_pairs.csv") as fh:
        for row in csv.DictReader(fh):
            pairs.setdefault(row["dataset"], []).append((int(row["source"]), int(row["target"])))
    examples = {p["dataset"]: p for p in json.loads((REFERENCE_DIR / "examples.json").read_text())["pairs"]}
    runners = {}
    checks = {}
    for dataset, stem in EXAMPLES_DATASET.items():
        model, _ = load_reference(stem)
        folder, test_file, _ = REFERENCE[stem]
        cases, _ = load_ts(DATASETS_DIR / folder / test_file)
        x_all = torch.tensor(pad_batch(cases, model.pos_enc.shape[1])[0], dtype=torch.float32)
        P = {k: v.detach().clone() for k, v in canonical_params(model).items()}

        # correctness first
        a, b = examples[dataset]["pair"]
        got = study_loop(model, x_all[a:a + 1], x_all[b:b + 1])
        err_a = float((got - torch.tensor(examples[dataset]["head_patch"])).abs().max())
        assert err_a < 1e-5, f"{dataset} study loop vs examples.json: {err_a}"
        fixture = json.loads((REPO / "test" / "fixtures" / "patching" / f"{stem}.json").read_text())
        with torch.inference_mode():
            got_b = batched_z(P, x_all[[a]], x_all[[b]])[0]
        err_b = float((got_b - torch.tensor(fixture["head_z_probs"])).abs().max())
        assert err_b < 1e-5, f"{dataset} batched z vs fixture: {err_b}"
        checks[dataset] = {"study_loop": err_a, "batched_z": err_b}

        src = torch.tensor([s for s, _ in pairs[dataset]])
        tgt = torch.tensor([t for _, t in pairs[dataset]])
        xs, xt = x_all[src], x_all[tgt]
        n = len(src)

        def run_study(model=model, xs=xs, xt=xt, n=n):
            for i in range(n):
                study_loop(model, xs[i:i + 1], xt[i:i + 1])

        def run_batched(P=P, xs=xs, xt=xt):
            with torch.inference_mode():
                batched_z(P, xs, xt)

        run_batched()  # warm-up
        runners[dataset] = (n, run_study, run_batched)

    if args.serve:
        # bench/patch.ts interleaves these with its own sweeps: "study <dataset>" or
        # "batched <dataset>" times one pass over the dataset's pairs; an empty line ends it.
        print(json.dumps({"ready": {k: {"pairs": r[0]} for k, r in runners.items()}, "checks": checks,
                          "torch": torch.__version__}), flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words:
                break
            kind, dataset = words
            n, run_study, run_batched = runners[dataset]
            fn = run_study if kind == "study" else run_batched
            print(json.dumps({"dataset": dataset, "kind": kind, "seconds": best_time(fn, 1)}), flush=True)
        return
    results = {}
    for dataset, (n, run_study, run_batched) in runners.items():
        t_a = best_time(run_study, 1)
        t_b = best_time(run_batched, args.repeats)
        results[dataset] = {"pairs": n, "study_loop_pairs_per_s": n / t_a, "batched_z_pairs_per_s": n / t_b,
                            "study_loop_s": t_a, "batched_z_s": t_b, "check_max_abs_err": checks[dataset]}
    print(json.dumps({"bench": "torch_patch", "threads": args.threads, "torch": torch.__version__,
                      "results": results}))


if __name__ == "__main__":
    main()
