#!/usr/bin/env bash
# The one script a session runs on the leased GPU machine (one H100, 16 cores, no network, no
# Node.js; python3 with torch + transformers + peft; nvcc, cmake, ninja, compute-sanitizer):
# build the CUDA module, its op tests and the GPU benches, run the tests, memcheck the op tests,
# run the benches and the HF peers, and write logs plus one markdown summary (Paddock / peer
# ratios, issue 7's acceptance lines) to $OUT (the device tool's output folder; default ./gpu-out).
#
# Usage (from the repository root):  native/tools/gpu_lease.sh STAGE...
#   build     configure (Release, archs 80-real;90, PADDOCK_BENCH=ON) and build the CUDA targets
#   test      ctest -R '^test_cuda_' (real-GPU variants; TEST_EMU=1 adds the emulator ones)
#   sanitize  compute-sanitizer --tool memcheck on the op tests
#   bench     bandwidth, GEMM, inference and LoRA training benches on $SHAPES / $TRAIN_SHAPES
#   bench7b   the same for llama-2-7b (big synthetic files: its own stage for the time limit)
#   peers     HF transformers (+ PEFT) on the same shapes, and torch.matmul for the GEMMs
#   peers7b   the peers for llama-2-7b
#   summary   rebuild $OUT/summary.md from every result gathered so far (each stage ends with it)
#   all       build test sanitize bench peers (not the 7B stages)
#
# Time budget: the device tool stops a command after 10 minutes and a lease is 30 minutes of
# device time, so run the stages as separate commands. Rough costs on an H100 machine:
#   build ~3-6 min (-j16; nvcc takes 20-40 s a .cu per arch), test ~1-2 min, sanitize ~2-5 min
#   (memcheck runs kernels 10-100x slower), bench ~4-6 min (the first run writes the synthetic
#   GGUFs under /tmp/paddock-bench: ~2.5 GB each for the 1B F16 files), peers ~3-5 min,
#   bench7b ~6-9 min (13.5 GB F16 file + its Q4_K_M, written once), peers7b ~3-4 min.
# Every bench/peer run is under `timeout $STEP_TIMEOUT` (default 300 s), so one hang cannot eat
# the command's whole limit. Results persist between commands in $BUILD_DIR/results (an ignored
# build folder the device keeps while the machine stays warm) and are copied to $OUT each time.
#
# Knobs (environment): OUT, BUILD_DIR (.build/gpu), JOBS (16), ARCHS ("80-real;90"),
# SHAPES ("tinyllama-1.1b llama-3.2-1b"), TYPES ("f16 q4_k"), TRAIN_SHAPES ("llama-3.2-1b
# tinyllama-1.1b"), GEMMS ("4096x4096x4096 512x8192x2048 512x2048x8192 1024x5632x2048"),
# TRAIN_STEPS (10), STEP_TIMEOUT (300), TEST_EMU (0), SANITIZE_TESTS (the four op tests),
# SANITIZE_TIMEOUT (200 s per test: four must fit one 10-minute command), BUILD_TARGETS (default: every real
# test_cuda_* and bench_cuda_* target plus the module), PYTHON (python3).
set -u -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-out}"
BUILD_DIR="${BUILD_DIR:-$ROOT/.build/gpu}"
JOBS="${JOBS:-16}"
ARCHS="${ARCHS:-80-real;90}"
SHAPES="${SHAPES:-tinyllama-1.1b llama-3.2-1b}"
TYPES="${TYPES:-f16 q4_k}"
TRAIN_SHAPES="${TRAIN_SHAPES:-llama-3.2-1b tinyllama-1.1b}"
GEMMS="${GEMMS:-4096x4096x4096 512x8192x2048 512x2048x8192 1024x5632x2048}"
TRAIN_STEPS="${TRAIN_STEPS:-10}"
STEP_TIMEOUT="${STEP_TIMEOUT:-300}"
TEST_EMU="${TEST_EMU:-0}"
PYTHON="${PYTHON:-python3}"
RESULTS="$BUILD_DIR/results"
SANITIZE_TESTS="${SANITIZE_TESTS:-test_cuda_gemm test_cuda_wgmma test_cuda_gemm_splitk test_cuda_quant test_cuda_decode test_cuda_attention test_cuda_pointwise test_cuda_embedding_grad}"
SANITIZE_TIMEOUT="${SANITIZE_TIMEOUT:-200}"
PEERS="$ROOT/test/bench/peers"
# No network on the GPU machine: make HF fail fast instead of retrying downloads.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1

mkdir -p "$OUT/logs" "$RESULTS"

log() { echo "[gpu_lease $(date +%H:%M:%S)] $*" | tee -a "$OUT/logs/lease.log"; }
# status <stage> <ok|FAILED|skipped> <detail>: one line per stage for the summary.
status() {
  grep -v "^$1 " "$RESULTS/status.txt" 2>/dev/null >"$RESULTS/status.tmp" || true
  echo "$1 $2 ${3:-}" >>"$RESULTS/status.tmp"
  mv "$RESULTS/status.tmp" "$RESULTS/status.txt"
}

# run_json <results file> <log name> cmd...: runs one bench under the step timeout, its stdout
# (JSON lines + messages) and stderr to the log, the JSON lines appended to the results file.
# A "no GPU" exit (77) is reported, not counted as a failure.
run_json() {
  local results="$1" name="$2"
  shift 2
  log "  $name: $*"
  local rc=0
  timeout "$STEP_TIMEOUT" "$@" >"$OUT/logs/$name.out" 2>"$OUT/logs/$name.err" || rc=$?
  grep '^{' "$OUT/logs/$name.out" >>"$results" || true
  case $rc in
    0) ;;
    77) log "    skipped: $(head -c 300 "$OUT/logs/$name.out")"; SKIPS=$((SKIPS + 1)) ;;
    124) log "    TIMED OUT after ${STEP_TIMEOUT}s"; FAILURES=$((FAILURES + 1)) ;;
    *) log "    FAILED (rc $rc): $(tail -n 3 "$OUT/logs/$name.err" | tr '\n' ' ')"; FAILURES=$((FAILURES + 1)) ;;
  esac
}

# stage_status <stage>: FAILED if any run failed, else skipped if any run skipped (no GPU, no torch).
stage_status() {
  local verdict=ok
  [ "$SKIPS" -gt 0 ] && verdict=skipped
  [ "$FAILURES" -gt 0 ] && verdict=FAILED
  status "$1" "$verdict" "$FAILURES failed, $SKIPS skipped (no GPU / no torch: see logs)"
}

stage_build() {
  log "build: configure $BUILD_DIR (archs $ARCHS)"
  if ! cmake -S native -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CUDA_ARCHITECTURES=$ARCHS" \
      -DPADDOCK_BENCH=ON >"$OUT/logs/configure.log" 2>&1; then
    log "configure FAILED (logs/configure.log)"; status build FAILED configure; return 1
  fi
  local targets="${BUILD_TARGETS:-}"
  if [ -z "$targets" ]; then
    # The real-GPU targets only: the emulator variants are CI's (TEST_EMU=1 adds them).
    local pattern='^(paddock_cuda|test_cuda_[a-z0-9_]+|bench_cuda_[a-z0-9_]+):'
    targets=$(ninja -C "$BUILD_DIR" -t targets all | grep -oE "$pattern" | tr -d ':' | sort -u |
      { if [ "$TEST_EMU" = 1 ]; then cat; else grep -v '_emu$'; fi; } | tr '\n' ' ')
  fi
  log "build: ninja -j$JOBS $targets"
  local t0=$SECONDS
  if ! ninja -C "$BUILD_DIR" -j"$JOBS" $targets >"$OUT/logs/build.log" 2>&1; then
    log "build FAILED: $(grep -m3 -E 'error|FAILED' "$OUT/logs/build.log" | tr '\n' ' ')"
    status build FAILED "see logs/build.log"; return 1
  fi
  log "build: ok in $((SECONDS - t0)) s"
  status build ok "$((SECONDS - t0)) s"
}

stage_test() {
  local exclude=(-E '_emu$')
  [ "$TEST_EMU" = 1 ] && exclude=()
  log "test: ctest -R ^test_cuda_ ${exclude[*]}"
  local rc=0
  (cd "$BUILD_DIR" && ctest -R '^test_cuda_' "${exclude[@]}" --output-on-failure --timeout 600) \
    >"$OUT/logs/ctest.log" 2>&1 || rc=$?
  grep -E 'Test +#|tests passed|SKIPPED|Not Run|Failed' "$OUT/logs/ctest.log" | tee -a "$OUT/logs/lease.log"
  # On the GPU machine a skipped test means the device was not usable: worth seeing at a glance.
  status test "$([ $rc = 0 ] && echo ok || echo FAILED)" \
    "$(grep -m1 'tests passed' "$OUT/logs/ctest.log"); $(grep -c '\*\*\*Skipped' "$OUT/logs/ctest.log") skipped"
  return $rc
}

stage_sanitize() {
  if ! command -v compute-sanitizer >/dev/null; then
    log "sanitize: compute-sanitizer not found"; status sanitize skipped "no compute-sanitizer"; return 0
  fi
  local bad=0 detail=""
  for t in $SANITIZE_TESTS; do
    if [ ! -x "$BUILD_DIR/$t" ]; then
      log "sanitize: $t not built"; detail+="$t:absent "; continue
    fi
    log "sanitize: memcheck $t"
    local rc=0
    timeout "$SANITIZE_TIMEOUT" compute-sanitizer --tool memcheck --error-exitcode 99 "$BUILD_DIR/$t" \
      >"$OUT/logs/memcheck-$t.log" 2>&1 || rc=$?
    local errors
    errors=$(grep -m1 'ERROR SUMMARY' "$OUT/logs/memcheck-$t.log" || echo "no summary (rc $rc)")
    log "  $t: rc $rc, $errors"
    detail+="$t:$([ $rc = 0 ] && echo ok || echo "rc$rc") "
    [ $rc = 0 ] || [ $rc = 77 ] || bad=1
  done
  status sanitize "$([ $bad = 0 ] && echo ok || echo FAILED)" "$detail"
  return $bad
}

# bench_shapes <results file> <infer shapes> <train shapes>
bench_shapes() {
  local results="$1" shapes="$2" train_shapes="$3"
  for s in $shapes; do
    for ty in $TYPES; do
      run_json "$results" "infer-$s-$ty" "$BUILD_DIR/bench_cuda_infer" --shape "$s" --type "$ty" --ctx 1024 \
        --prefill 512 --decode 128
    done
  done
  for s in $train_shapes; do
    run_json "$results" "train-$s" "$BUILD_DIR/bench_cuda_train" --shape "$s" --type bf16 --rank 16 --seq 1024 \
      --steps "$TRAIN_STEPS"
  done
}

stage_bench() {
  FAILURES=0 SKIPS=0
  local results="$RESULTS/bench.jsonl"
  : >"$results"
  run_json "$results" bandwidth "$BUILD_DIR/bench_cuda_bandwidth" --mib 2048 --reps 20
  for g in $GEMMS; do
    IFS=x read -r m n k <<<"$g"
    run_json "$results" "gemm-$g" "$BUILD_DIR/bench_cuda_infer" --gemm "$m" "$n" "$k" --reps 20
    for t in large wgmma; do  # the two tensor-core kernels side by side (auto is one of them)
      run_json "$results" "gemm-$g-$t" "$BUILD_DIR/bench_cuda_infer" --gemm "$m" "$n" "$k" --reps 20 --tiles "$t"
    done
  done
  bench_shapes "$results" "$SHAPES" "$TRAIN_SHAPES"
  stage_status bench
}

stage_bench7b() {
  FAILURES=0 SKIPS=0
  local results="$RESULTS/bench7b.jsonl"
  : >"$results"
  bench_shapes "$results" llama-2-7b llama-2-7b
  stage_status bench7b
}

# peer_shapes <results file> <infer shapes> <train shapes>
peer_shapes() {
  local results="$1" shapes="$2" train_shapes="$3"
  for s in $shapes; do
    run_json "$results" "hf-infer-$s" "$PYTHON" "$PEERS/hf_infer.py" --shape "$s" --prefill 512 --decode 128
  done
  for s in $train_shapes; do
    run_json "$results" "hf-train-$s" "$PYTHON" "$PEERS/hf_peft_train.py" --shape "$s" --rank 16 --seq 1024 \
      --steps "$TRAIN_STEPS"
  done
}

stage_peers() {
  FAILURES=0 SKIPS=0
  local results="$RESULTS/peers.jsonl"
  : >"$results"
  for g in $GEMMS; do
    IFS=x read -r m n k <<<"$g"
    run_json "$results" "torch-gemm-$g" "$PYTHON" "$PEERS/hf_infer.py" --gemm "$m" "$n" "$k" --reps 20
  done
  peer_shapes "$results" "$SHAPES" "$TRAIN_SHAPES"
  stage_status peers
}

stage_peers7b() {
  FAILURES=0 SKIPS=0
  local results="$RESULTS/peers7b.jsonl"
  : >"$results"
  peer_shapes "$results" llama-2-7b llama-2-7b
  stage_status peers7b
}

# summarize <results dir>: the markdown summary on stdout, from status.txt and every *.jsonl.
summarize() {
  "$PYTHON" - "$1" <<'PY'
import glob, json, os, sys

res = sys.argv[1]
recs = []
for f in sorted(glob.glob(os.path.join(res, "*.jsonl"))):
    for line in open(f):
        try:
            recs.append(json.loads(line))
        except ValueError:
            pass

def pick(bench, impl, **key):
    for r in recs:
        if r.get("bench") == bench and r.get("impl", "paddock") == impl and all(r.get(k) == v for k, v in key.items()):
            return r
    return None

def f(x, fmt="{:.1f}"):
    return "-" if x is None else fmt.format(x)

def ratio(a, b):
    return f(a / b, "{:.2f}x") if a and b else "-"

def verdict(ok):
    return "PASS" if ok else "FAIL"

print("# Paddock CUDA: GPU lease results\n")
dev = next((r["device"] for r in recs if "device" in r), "unknown device")
print(f"Device: {dev}\n")
print("## Stages\n\n| stage | result | detail |\n|---|---|---|")
st = os.path.join(res, "status.txt")
for line in open(st) if os.path.exists(st) else []:
    parts = line.rstrip("\n").split(" ", 2)
    print(f"| {parts[0]} | {parts[1] if len(parts) > 1 else ''} | {parts[2] if len(parts) > 2 else ''} |")

bw = pick("bandwidth", "paddock")
print(f"\n## Bandwidth\n\nDevice-to-device copy (read + written): median {f(bw and bw['gbps_median'])} GB/s,"
      f" best {f(bw and bw['gbps_best'])} GB/s.")

print("\n## Decode (128 tokens after a 512-token prefill; Paddock F16/Q4_K vs HF BF16)\n")
print("| shape | type | Paddock tok/s (median step) | ms/token | weight MB/token | limit tok/s | share of limit | HF tok/s (median step) | HF generate tok/s | Paddock/HF |")
print("|---|---|---|---|---|---|---|---|---|---|")
accept = []
for r in [r for r in recs if r.get("bench") == "decode" and r.get("impl") == "paddock"]:
    hf = pick("decode", "hf", shape=r["shape"])
    print(f"| {r['shape']} | {r['type']} | {f(r['tok_s_median'])} | {f(r['ms_per_token_median'], '{:.3f}')} |"
          f" {f(r['weight_bytes_per_token'] / 1e6, '{:.0f}')} | {f(r['bandwidth_limit_tok_s'])} |"
          f" {f(100 * r['share_of_limit'], '{:.1f}%')} | {f(hf and hf['tok_s_median'])} | {f(hf and hf['tok_s'])} |"
          f" {ratio(r['tok_s_median'], hf and hf['tok_s_median'])} |")
    if r["shape"] == "tinyllama-1.1b" and r["type"] in ("f16", "q4_k"):
        accept.append(f"- decode tinyllama-1.1b {r['type']}: {100 * r['share_of_limit']:.1f}% of the bandwidth limit"
                      f" (need >= 80%): {verdict(r['share_of_limit'] >= 0.8)}")

print("\n## Prefill (512 tokens)\n")
print("| shape | type | Paddock tok/s | Paddock TFLOP/s | HF tok/s | Paddock/HF |\n|---|---|---|---|---|---|")
for r in [r for r in recs if r.get("bench") == "prefill" and r.get("impl") == "paddock"]:
    hf = pick("prefill", "hf", shape=r["shape"])
    print(f"| {r['shape']} | {r['type']} | {f(r['tok_s'], '{:.0f}')} | {f(r.get('tflops'))} |"
          f" {f(hf and hf['tok_s'], '{:.0f}')} | {ratio(r['tok_s'], hf and hf['tok_s'])} |")

print("\n## LoRA training (batch 1; FLOPs: 4 N_matmul + 6 N_lora + 6 L dim T per token)\n")
print("| shape | rank | seq | Paddock tok/s | Paddock MFU | loss first -> last | HF PEFT tok/s | HF MFU | Paddock/HF |")
print("|---|---|---|---|---|---|---|---|---|")
for r in [r for r in recs if r.get("bench") == "train" and r.get("impl") == "paddock"]:
    hf = pick("train", "hf_peft", shape=r["shape"], rank=r["rank"], seq=r["seq"])
    print(f"| {r['shape']} | {r['rank']} | {r['seq']} | {f(r['tok_s'], '{:.0f}')} | {f(100 * r['mfu'], '{:.1f}%')} |"
          f" {r['loss_first']:.3f} -> {r['loss_last']:.3f} | {f(hf and hf['tok_s'], '{:.0f}')} |"
          f" {f(hf and 100 * hf['mfu'], '{:.1f}%')} | {ratio(r['tok_s'], hf and hf['tok_s'])} |")
    if r["shape"] == "llama-3.2-1b" and r["rank"] == 16 and r["seq"] == 1024 and hf:
        x = r["tok_s"] / hf["tok_s"]
        accept.append(f"- LoRA r=16 llama-3.2-1b seq 1024: {x:.2f}x HF PEFT (need >= 1.0x, goal 2x): {verdict(x >= 1.0)}")

print("\n## GEMM (BF16, C = A B^T)\n")
print("| M | N | K | kernel | Paddock TFLOP/s | spot check | torch.matmul TFLOP/s | Paddock/torch |\n|---|---|---|---|---|---|---|---|")
for r in [r for r in recs if r.get("bench") == "gemm" and r.get("impl") == "paddock"]:
    t = pick("gemm", "torch", M=r["M"], N=r["N"], K=r["K"])
    print(f"| {r['M']} | {r['N']} | {r['K']} | {r.get('tiles', 'auto')} | {f(r['tflops'])} | {'ok' if r.get('spot_ok') else 'WRONG'} |"
          f" {f(t and t['tflops'])} | {ratio(r['tflops'], t and t['tflops'])} |")

print("\n## Issue 7 acceptance\n")
print("\n".join(accept) if accept else "(no acceptance measurements yet)")
print("\nllama.cpp is not measured here: node-llama-cpp needs Node.js, which the GPU machine lacks.")
PY
}

stage_summary() {
  mkdir -p "$OUT/results"
  cp "$RESULTS"/*.jsonl "$RESULTS/status.txt" "$OUT/results/" 2>/dev/null || true
  if ! command -v "$PYTHON" >/dev/null; then
    log "summary: no $PYTHON; raw results in $OUT/results"; return 0
  fi
  summarize "$RESULTS" >"$OUT/summary.md" 2>"$OUT/logs/summary.err" ||
    log "summary FAILED: $(tail -n 3 "$OUT/logs/summary.err" | tr '\n' ' ')"
  log "summary: $OUT/summary.md"
}

[ $# -eq 0 ] && set -- all
rc=0
for stage in "$@"; do
  case "$stage" in
    all) for s in build test sanitize bench peers; do "stage_$s" || rc=1; done ;;
    build | test | sanitize | bench | bench7b | peers | peers7b) "stage_$stage" || rc=1 ;;
    summary) ;;
    *) echo "unknown stage '$stage' (build test sanitize bench bench7b peers peers7b summary all)" >&2; exit 2 ;;
  esac
done
stage_summary
exit $rc
