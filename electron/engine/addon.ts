// The native addon's JavaScript face. Loaded only inside the engine process (and by tests/CLI
// that act as one), never by the app host: a crash in native code must not take the app down.
import path from 'node:path';
import fs from 'node:fs';

export type NativeModelFormat = 'gguf' | 'llama2c' | 'hf';

export interface NativeModelInfo {
  format: NativeModelFormat;
  architecture: string;
  name: string;
  vocabSize: number;
  embeddingLength: number;
  feedForwardLength: number;
  layerCount: number;
  headCount: number;
  headCountKv: number;
  contextLength: number;
  ropeTheta: number;
  rmsEps: number;
  tiedEmbeddings: boolean;
  /** The dominant tensor type of the weights, e.g. "F32", "F16". */
  tensorType: string;
  parameterCount: number;
  fileBytes: number;
  bosId: number;
  eosId: number;
  /** End-of-turn token (Llama 3's <|eot_id|>), -1 if the vocabulary has none. */
  eotId?: number;
  /** The tokenizer family: SentencePiece BPE (Llama 1/2) or byte-level BPE (Llama 3). */
  tokenizer?: 'spm' | 'bpe' | 'none';
  /** Scalar metadata from the file (GGUF key/values; arrays summarised as their length). */
  metadata: Record<string, string | number | boolean>;
}

/** Where the engine runs: 'auto' picks CUDA when usable, else the CPU with `backend.notice` saying why; 'cuda' throws without a GPU. */
export type NativeDeviceChoice = 'auto' | 'cpu' | 'cuda';

export interface NativeContextOptions {
  contextLength?: number;
  threads?: number;
  kvCacheType?: 'f16' | 'f32';
  /** Default 'auto'. Builds without the option ignore it (feature-detect `backend` on the context). */
  device?: NativeDeviceChoice;
  /** Layers on the GPU, counted from the last one; omitted or >= layerCount: all. */
  gpuLayers?: number;
}

/** What a context or trainer runs on; `notice` is a fallback reason the user must see. */
export interface NativeBackendInfo {
  name: 'cpu' | 'cuda';
  deviceName: string;
  /** Bytes the context holds on the device (0 on the CPU). */
  deviceBytes: number;
  notice?: string;
}

export interface NativeContextBackend extends NativeBackendInfo {
  gpuLayers: number;
  layerCount: number;
}

export interface NativeContext {
  readonly contextLength: number;
  /** Present once the native build has the CUDA backend (issue 7): feature-detect it. */
  readonly backend?: NativeContextBackend;
  /** Tokens held in the KV cache. */
  readonly position: number;
  /** Runs the model over `tokens` at the current position; resolves with the last token's logits. */
  decode(tokens: Int32Array): Promise<Float32Array>;
  /** Drops KV entries from `position` on, so a shared prefix is kept. */
  truncate(position: number): void;
  /**
   * Context shift: drops positions [keep, keep + discard) from the KV cache and slides the rest
   * down (RoPE re-applied), so generation continues in a full context. Optional: feature-detect it.
   */
  shift?(keep: number, discard: number): void;
  /**
   * Attaches LoRA adapters (replacing the previous set; [] detaches all) without reloading the
   * base: each adds scale * (alpha / rank) * B A x to the matrices it targets, as llama.cpp's
   * --lora-scaled does. Scale 0 gives the base's logits exactly. The KV cache was computed with
   * the old set, so the position goes back to 0. Optional in fakes: feature-detect it.
   */
  setAdapters?(adapters: { adapter: NativeAdapter; scale?: number }[]): void;
  dispose(): void;
}

/** A LoRA adapter held natively (loadAdapter), attachable to contexts of models of its base's shape. */
export interface NativeAdapter {
  readonly path: string;
  readonly rank: number;
  readonly alpha: number;
  /** Targeted matrices: q, k, v, o, gate, up, down. */
  readonly targets: readonly string[];
}

export interface NativeModel {
  readonly info: NativeModelInfo;
  /** Encode with the model's tokenizer (SentencePiece or byte-level BPE); parseSpecial turns control-token texts into those tokens. */
  tokenize(text: string, addBos: boolean, parseSpecial?: boolean): Int32Array;
  /** The bytes a token stands for when printed ("▁" -> space, <0xNN> -> the byte, control -> none). */
  tokenBytes(id: number): Uint8Array;
  /** The vocabulary entry as stored, for display. */
  tokenText(id: number): string;
  /** True for tokens that end generation (EOS, <|eot_id|>, <|eom_id|>). */
  isEog(id: number): boolean;
  createContext(options?: NativeContextOptions): NativeContext;
  dispose(): void;
}

/** A tokenizer without weights: from a model, a vocab-only GGUF, tokenizer.model (SentencePiece or tiktoken), tokenizer.json or llama2.c tokenizer.bin. */
export interface NativeTokenizer {
  readonly kind: 'spm' | 'bpe';
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  /** -1 if none. */
  readonly eotId: number;
  encode(text: string, addBos?: boolean, parseSpecial?: boolean): Int32Array;
  /** Text of the ids (control tokens print nothing; SentencePiece's dummy-prefix space is dropped): decode(encode(s)) === s. */
  decode(ids: ArrayLike<number>): string;
  tokenBytes(id: number): Uint8Array;
  tokenText(id: number): string;
  isEog(id: number): boolean;
}

export interface NativeSamplerOptions {
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  /** 0 = off. */
  minP?: number;
  /** 1 = off; llama.cpp semantics (positive logits divided, negative multiplied). */
  repeatPenalty?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** The penalty window over accepted tokens (default 64; 0 = penalties off). */
  penaltyLastN?: number;
  /** [tokenId, bias] pairs added to the logits; -Infinity bans. */
  logitBias?: [number, number][];
}

export interface NativeSampler {
  /** Picks the next token: logit bias and penalties, then greedy at temperature 0, else top-k, softmax(T), top-p, min-p. Does not record the pick. */
  sample(logits: Float32Array): number;
  /** Records a token (prompt or sampled) in the penalty window. */
  accept(token: number): void;
}

export interface NativeBackend {
  name: 'cpu' | 'cuda' | 'metal';
  compiled: boolean;
  devices: { name: string; memory_bytes: number }[];
}

/** A GPU as addon.devices() lists it (the CPU entry has only name and memory_bytes). */
export interface NativeGpuDevice {
  index: number;
  name: string;
  memory_bytes: number;
  free_bytes: number;
  /** "8.0", "9.0" ... */
  compute_capability: string;
  bf16: boolean;
  /** The CPU emulator of the CUDA backend (tests), never a real GPU. */
  emulated: boolean;
  /** The tensor-core GEMM serving it: "wgmma (sm_90a)" or "mma.sync (wgmma: <why not>)". */
  matmul: string;
}

/** addon.devices(): every backend compiled into this build and what it found. */
export interface NativeDevices {
  backends: [
    { name: 'cpu'; compiled: true; devices: { name: string; memory_bytes: number }[] },
    { name: 'cuda'; compiled: boolean; loaded: boolean; reason?: string; devices: NativeGpuDevice[] },
  ];
}

/** A training run's settings as the native trainer takes them (electron/core/training/run-config.ts resolves them). */
export interface NativeTrainerConfig {
  method: 'lora' | 'full';
  rank?: number;
  alpha?: number;
  dropout?: number;
  /** Comma-separated subset of q,k,v,o,gate,up,down. */
  targets?: string;
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** 0 = no clipping. */
  clipNorm?: number;
  schedule?: 'constant' | 'linear' | 'cosine';
  warmupSteps?: number;
  totalSteps?: number;
  finalRatio?: number;
  maxSeqLen?: number;
  checkpointActivations?: boolean;
  seed?: number;
  threads?: number;
  /** Native default 'cpu'; builds without the CUDA backend ignore it (feature-detect `backend`). */
  device?: NativeDeviceChoice;
}

/** One packed row (native TrainRow): targets[t] is predicted after tokens[0..t]; weight 0 masks a position. */
export interface NativeTrainRow {
  tokens: Int32Array;
  targets: Int32Array;
  weights: Float32Array;
  positions?: Int32Array;
  segments?: Int32Array;
}

export interface NativeStepResult {
  /** 1-based. */
  step: number;
  /** Weighted mean loss over the step's rows, before the update. */
  loss: number;
  /** Global L2 norm before clipping. */
  gradNorm: number;
  lr: number;
  tokens: number;
  lossTokens: number;
  seconds: number;
}

/** One training run's native state over a loaded model; one call at a time (await each). */
export interface NativeTrainer {
  readonly stepsDone: number;
  readonly memoryBytes: number;
  readonly trainableParameters: number;
  /** Present once the native build has the CUDA backend (issue 7): feature-detect it. */
  readonly backend?: NativeBackendInfo;
  /** One optimizer step over the rows (gradient accumulation across them). */
  step(rows: NativeTrainRow[]): Promise<NativeStepResult>;
  evaluate(rows: NativeTrainRow[]): Promise<number>;
  /** Parameters, moments, step and `extraJson` (opaque), written to a temp file then renamed. */
  saveCheckpoint(file: string, extraJson: string): Promise<void>;
  /** Restores a checkpoint of a trainer with the same config; resolves with its extraJson. */
  loadCheckpoint(file: string): Promise<string>;
  dispose(): void;
}

export interface Addon {
  readonly version: string;
  /** Reads and validates a model file's header and tensor table (bounds, types) without loading weights. */
  readModelInfo(file: string, options?: { tokenizerPath?: string }): Promise<NativeModelInfo>;
  loadModel(file: string, options?: { tokenizerPath?: string }): Promise<NativeModel>;
  /** Opens a tokenizer file (format detected from its content); GGUF weights are neither read nor checked. */
  loadTokenizer(file: string): Promise<NativeTokenizer>;
  createSampler(options: NativeSamplerOptions): NativeSampler;
  /** Writes a loaded model (weights + vocabulary + hyperparameters) as a GGUF file. */
  writeGguf(model: NativeModel, outFile: string, options: { type: 'f32' | 'f16' | 'q8_0' | 'q4_0' }): Promise<void>;
  /**
   * Writes a random-weight GGUF of a real shape (DESIGN.md "Synthetic shapes") in a file type
   * (F32, F16, Q8_0, Q4_0 or Q4_K_M mixes as llama.cpp's quantizer picks them), streamed tensor
   * by tensor to a temp file then renamed. `vocabDir` holds llama2/ and llama3/ tokenizer.model
   * files: the real vocabularies written into every shape but stories260k. Resolves with outFile.
   */
  writeSyntheticGguf(outFile: string, options: { shape: SyntheticShape; type: SyntheticType; seed?: number; vocabDir?: string }): Promise<string>;
  backends(): NativeBackend[];
  /** Backends and devices with free memory; loads the CUDA module once. Absent in older builds. */
  devices?(): NativeDevices;
  /** Reads a GGUF LoRA adapter file or a PEFT folder (adapter_config.json + adapter_model.safetensors) for `model`'s shape. */
  loadAdapter(model: NativeModel, path: string): Promise<NativeAdapter>;
  /**
   * Writes a random LoRA adapter for `model`'s shape (A as a fresh adapter, B uniform in
   * [-bRange, bRange] so it changes the output): GGUF LoRA file or PEFT folder. For tests and
   * benches. Resolves with outPath.
   */
  writeSyntheticAdapter(
    model: NativeModel,
    outPath: string,
    options?: { format?: 'gguf' | 'peft'; rank?: number; alpha?: number; targets?: string; seed?: number; bRange?: number },
  ): Promise<string>;
  /** Builds a trainer (trainable parameters, optimizer state, activations) over a loaded model; OUT_OF_MEMORY names the bytes needed. */
  createTrainer(model: NativeModel, config: NativeTrainerConfig): Promise<NativeTrainer>;
  /**
   * Exports a run from its checkpoint and base model: the adapter as a PEFT folder or a GGUF LoRA
   * file, or the base with the adapter merged (or the fully fine-tuned weights) as GGUF of `type`
   * (default f16). Resolves with `out`.
   */
  exportTrainedRun(base: NativeModel, checkpoint: string, options: { format: 'peft' | 'gguf-lora' | 'gguf-merged'; type?: 'f16' | 'q8_0' | 'q4_k_m'; out: string }): Promise<string>;
  /** The machine's measured F32 GEMM rate (FLOP/s, best of repeated runs within about `seconds`), for MFU estimates. */
  measureGemmFlops(seconds: number, threads: number): Promise<number>;
}

export const SYNTHETIC_SHAPES = ['stories260k', 'stories15m', 'tinyllama-1.1b', 'llama-3.2-1b', 'llama-2-7b'] as const;
export type SyntheticShape = (typeof SYNTHETIC_SHAPES)[number];
export const SYNTHETIC_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_k_m'] as const;
export type SyntheticType = (typeof SYNTHETIC_TYPES)[number];

/** Error thrown by the addon: `code` is stable (BAD_MODEL_FILE, IO, UNSUPPORTED, OUT_OF_MEMORY, INVALID_ARGUMENT, INTERNAL). */
export interface NativeError extends Error {
  code: string;
}

let cached: Addon | undefined;

/** Finds paddock.node: $PADDOCK_ADDON, the packaged app's unpacked resources, or the source tree build. */
export function addonPath(): string {
  const candidates = [
    process.env.PADDOCK_ADDON,
    path.resolve(__dirname, '../../../native/build/Release/paddock.node'),
    path.resolve(__dirname, '../../native/build/Release/paddock.node'),
    process.resourcesPath ? path.join(process.resourcesPath, 'app.asar.unpacked/native/build/Release/paddock.node') : undefined,
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`The Paddock engine addon was not found (looked in: ${candidates.join(', ')}). Run "npm run build:native".`);
  return found;
}

export function loadAddon(): Addon {
  if (!cached) cached = require(addonPath()) as Addon;
  return cached;
}
