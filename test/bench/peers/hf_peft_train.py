#!/usr/bin/env python3
"""HF transformers + PEFT LoRA training throughput: the peer of native/bench/bench_cuda_train.

The same synthetic shapes as Paddock's (DESIGN.md "Synthetic shapes"), built from a LlamaConfig
with random init directly on the GPU (no downloads, no network), BF16 weights, PEFT LoRA on
q,k,v,o,gate,up,down (rank 16, alpha 32, no dropout), one row of --seq tokens per step (batch 1),
the same row every step, AdamW (lr 2e-4, fused where torch has it) with clip_grad_norm_ 1.0, as
Paddock's bench runs it. --warmup steps, then --steps timed with a synchronize at the end.

FLOPs per token (identical to bench_cuda_common.h train_flops_per_token; model FLOPs, activation
recomputation not counted):
  N_matmul = L * (2*dim*dim + 2*dim*kv_dim + 3*dim*ffn) + dim*vocab
  full:  6 * N_matmul;   LoRA:  4 * N_matmul + 6 * N_lora;   plus causal attention 6 * L * dim * T.
MFU = achieved FLOP/s / the card's dense BF16 peak (--peak-tflops overrides).

Also the shared pieces of the peers (shapes, model construction, JSON lines), imported by
hf_infer.py. Output: one JSON line per measurement on stdout.
Usage: python3 hf_peft_train.py --shape llama-3.2-1b [--rank 16] [--seq 1024] [--steps 10]
"""
import argparse
import inspect
import json
import sys
import time

# name -> (dim, ffn, layers, heads, kv_heads, vocab, tied, rope_theta); DESIGN.md "Synthetic shapes".
SHAPES = {
    "tinyllama-1.1b": (2048, 5632, 22, 32, 4, 32000, False, 10000.0),
    "llama-3.2-1b": (2048, 8192, 16, 32, 8, 128256, True, 500000.0),
    "llama-2-7b": (4096, 11008, 32, 32, 32, 32000, False, 10000.0),
}
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def emit(record):
    print(json.dumps(record), flush=True)


def no_gpu(script, why):
    """The peers' equivalent of the native benches' exit 77."""
    print(f"{script}: no GPU: {why}", flush=True)
    sys.exit(77)


def require_torch_cuda(script):
    try:
        import torch  # noqa: F401
    except ImportError as e:
        no_gpu(script, f"torch is not installed ({e})")
    import torch
    if not torch.cuda.is_available():
        no_gpu(script, "torch.cuda.is_available() is False")
    return torch


def bf16_peak_tflops(device_name, override=0.0):
    """Dense BF16 tensor-core peak of known cards (NVIDIA datasheets); the same table as the C++."""
    if override > 0:
        return override
    has = lambda s: s in device_name
    if has("H100") or has("H200") or has("H800") or has("GH200"):
        return 756.0 if has("PCIe") else 989.0
    if has("A100") or has("A800"):
        return 312.0
    if has("L40S"):
        return 362.0
    if has("A10G"):
        return 70.0
    if has("RTX 4090"):
        return 165.0
    print(f"unknown card '{device_name}': pass --peak-tflops for MFU", file=sys.stderr)
    return 0.0


def matmul_params(shape):
    dim, ffn, layers, heads, kv_heads, vocab, _, _ = SHAPES[shape]
    kv_dim = dim // heads * kv_heads
    return layers * (2 * dim * dim + 2 * dim * kv_dim + 3 * dim * ffn) + dim * vocab


def train_flops_per_token(shape, n_lora, seq, lora=True):
    dim, _, layers = SHAPES[shape][:3]
    n = matmul_params(shape)
    dense = 4.0 * n + 6.0 * n_lora if lora else 6.0 * n
    return dense + 6.0 * layers * dim * seq


def build_model(shape, torch, max_positions=4096):
    """A randomly initialised LlamaForCausalLM of `shape` in BF16, created on the GPU."""
    from transformers import LlamaConfig, LlamaForCausalLM

    dim, ffn, layers, heads, kv_heads, vocab, tied, theta = SHAPES[shape]
    kwargs = dict(hidden_size=dim, intermediate_size=ffn, num_hidden_layers=layers, num_attention_heads=heads,
                  num_key_value_heads=kv_heads, vocab_size=vocab, tie_word_embeddings=tied,
                  max_position_embeddings=max_positions, rms_norm_eps=1e-5,
                  attn_implementation="sdpa")  # HF's default fast path (flash / mem-efficient SDPA)
    # transformers 5 folds rope_theta into rope_parameters; 4.x takes it directly.
    if "rope_parameters" in inspect.signature(LlamaConfig.__init__).parameters:
        kwargs["rope_parameters"] = {"rope_type": "default", "rope_theta": theta}
    else:
        kwargs["rope_theta"] = theta
    config = LlamaConfig(**kwargs)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device("cuda"):
            model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    return model.to(device="cuda", dtype=torch.bfloat16)


def random_tokens(torch, vocab, n, seed=11):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(3, vocab, (1, n), generator=g).cuda()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", default="llama-3.2-1b", choices=sorted(SHAPES))
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=0.0, help="default 2 * rank")
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--checkpoint", action="store_true", help="gradient checkpointing")
    ap.add_argument("--peak-tflops", type=float, default=0.0)
    args = ap.parse_args()

    torch = require_torch_cuda("hf_peft_train")
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as e:
        no_gpu("hf_peft_train", f"peft is not installed ({e})")

    torch.manual_seed(0)
    model = build_model(args.shape, torch, max_positions=max(4096, args.seq))
    if args.checkpoint:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    lc = LoraConfig(r=args.rank, lora_alpha=args.alpha or 2 * args.rank, lora_dropout=0.0,
                    target_modules=LORA_TARGETS, task_type="CAUSAL_LM")
    model = get_peft_model(model, lc)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    n_lora = sum(p.numel() for p in trainable)
    try:
        opt = torch.optim.AdamW(trainable, lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, fused=True)
    except (TypeError, RuntimeError):
        opt = torch.optim.AdamW(trainable, lr=2e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    vocab = SHAPES[args.shape][5]
    # labels = inputs (HF shifts inside the loss): seq positions run forward and backward, as in
    # Paddock's row of seq tokens; the loss covers seq - 1 of them (a negligible difference).
    ids = random_tokens(torch, vocab, args.seq)

    def step():
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return out.loss

    losses = []
    for _ in range(args.warmup):
        losses.append(float(step()))
    torch.cuda.synchronize()
    step_s = []
    t_run = time.perf_counter()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        losses.append(float(loss))  # a sync point, as Paddock's loss read-back is
        step_s.append(time.perf_counter() - t0)
    torch.cuda.synchronize()
    total = time.perf_counter() - t_run

    name = torch.cuda.get_device_name(0)
    tok_s = args.seq * args.steps / total
    flops_tok = train_flops_per_token(args.shape, n_lora, args.seq, lora=True)
    peak = bf16_peak_tflops(name, args.peak_tflops)
    tflops = flops_tok * tok_s / 1e12
    step_s.sort()
    emit({"bench": "train", "device": name, "impl": "hf_peft", "shape": args.shape, "type": "bf16",
          "method": "lora", "rank": args.rank, "seq": args.seq, "batch": 1, "steps": args.steps,
          "checkpoint": args.checkpoint, "step_ms_median": step_s[len(step_s) // 2] * 1e3, "tok_s": tok_s,
          "flops_per_token": flops_tok, "tflops": tflops, "peak_tflops": peak,
          "mfu": tflops / peak if peak > 0 else 0.0, "loss_first": losses[0], "loss_last": losses[-1],
          "max_mem_gib": torch.cuda.max_memory_allocated() / 2**30,
          "versions": {"torch": torch.__version__, **_versions()}})


def _versions():
    out = {}
    for mod in ("transformers", "peft"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return out


if __name__ == "__main__":
    main()
