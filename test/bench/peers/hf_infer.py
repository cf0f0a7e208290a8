#!/usr/bin/env python3
"""HF transformers inference throughput: the peer of native/bench/bench_cuda_infer.

Model mode (default): the shape from hf_peft_train.SHAPES, random BF16 weights on the GPU,
  - prefill: --prefill tokens in one forward with the KV cache on and only the last token's
    logits (what generate's first step does); median of --reps after a warm-up;
  - decode: HF generate (greedy, exactly --decode new tokens), decode tokens/s = (decode - 1) /
    (generate time - prefill time), since generate's first token comes from its prefill; and the
    loop Paddock's bench runs (one token per forward on the returned cache, argmax read back
    each step) for a median per-token time.
  Weight bytes per token (BF16 parameters read per step: every layer, the final norm and the
  classifier) are printed so the same bandwidth share can be computed for HF.
GEMM mode: --gemm M N K: torch.matmul(A[M,K], B[N,K]^T) in BF16 (cuBLASLt underneath), the
  peer of bench_cuda_infer --gemm; TFLOP/s of the median of --reps timed with CUDA events.
Output: one JSON line per measurement ("prefill", "decode", "gemm"), impl "hf" / "torch".
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_peft_train import SHAPES, build_model, emit, random_tokens, require_torch_cuda  # noqa: E402


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def run_gemm(torch, m, n, k, reps):
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        torch.matmul(a, b.t())
    ms = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(a, b.t())
        stop.record()
        stop.synchronize()
        ms.append(start.elapsed_time(stop))
    med = median(ms)
    emit({"bench": "gemm", "device": torch.cuda.get_device_name(0), "impl": "torch", "M": m, "N": n, "K": k,
          "ms_median": med, "tflops": 2.0 * m * n * k / (med * 1e-3) / 1e12,
          "tflops_best": 2.0 * m * n * k / (min(ms) * 1e-3) / 1e12})


def forward_last_logits(model, ids, past=None):
    """One forward with the cache, keeping only the last position's logits when HF supports it."""
    try:
        return model(input_ids=ids, past_key_values=past, use_cache=True, logits_to_keep=1)
    except TypeError:
        return model(input_ids=ids, past_key_values=past, use_cache=True)


def decode_weight_bytes(model, tied):
    """Bytes of the parameters one decode step reads: all but the input embedding unless it is
    also the classifier (one embedding row is looked up)."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    emb = model.get_input_embeddings().weight
    return total if tied else total - emb.numel() * emb.element_size()


def run_model(torch, args):
    name = torch.cuda.get_device_name(0)
    vocab, tied = SHAPES[args.shape][5], SHAPES[args.shape][6]
    torch.manual_seed(0)
    model = build_model(args.shape, torch, max_positions=max(4096, args.prefill + args.decode))
    model.eval()
    model.generation_config.eos_token_id = None  # random weights: never stop early
    model.generation_config.pad_token_id = 0
    ids = random_tokens(torch, vocab, args.prefill)
    common = {"device": name, "impl": "hf", "shape": args.shape, "type": "bf16"}

    with torch.no_grad():
        pre_s = []
        for r in range(args.reps + 1):  # the first is warm-up
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = forward_last_logits(model, ids)
            out.logits[:, -1].argmax(-1).item()
            if r > 0:
                pre_s.append(time.perf_counter() - t0)
            del out
        pre = median(pre_s)
        emit({"bench": "prefill", **common, "tokens": args.prefill, "seconds_median": pre,
              "tok_s": args.prefill / pre})

        # Paddock's loop: one token per forward on the cache, argmax read back every step.
        step_s = []
        for run in range(2):  # warm-up, then measured
            out = forward_last_logits(model, ids)
            past, tok = out.past_key_values, out.logits[:, -1:].argmax(-1)
            step_s = []
            for _ in range(args.decode):
                t0 = time.perf_counter()
                out = forward_last_logits(model, tok, past)
                past, tok = out.past_key_values, out.logits[:, -1:].argmax(-1)
                tok.item()
                step_s.append(time.perf_counter() - t0)
            del out, past

        gen_s = []
        for r in range(2):  # warm-up, then measured
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=args.decode,
                           min_new_tokens=args.decode, do_sample=False)
            torch.cuda.synchronize()
            gen_s.append(time.perf_counter() - t0)
    decode_s = max(gen_s[-1] - pre, 1e-9)
    step_med = median(step_s)
    emit({"bench": "decode", **common, "tokens": args.decode, "after_prefill": args.prefill,
          "ms_per_token_median": step_med * 1e3, "tok_s": (args.decode - 1) / decode_s,
          "tok_s_median": 1.0 / step_med, "generate_seconds": gen_s[-1],
          "weight_bytes_per_token": decode_weight_bytes(model, tied)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", default="tinyllama-1.1b", choices=sorted(SHAPES))
    ap.add_argument("--prefill", type=int, default=512)
    ap.add_argument("--decode", type=int, default=128)
    ap.add_argument("--reps", type=int, default=None, help="default 3 (model) or 20 (--gemm)")
    ap.add_argument("--gemm", type=int, nargs=3, metavar=("M", "N", "K"))
    args = ap.parse_args()
    torch = require_torch_cuda("hf_infer")
    if args.gemm:
        run_gemm(torch, *args.gemm, reps=max(3, args.reps or 20))
    else:
        args.reps = max(1, args.reps or 3)
        run_model(torch, args)


if __name__ == "__main__":
    main()
