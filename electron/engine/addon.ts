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

export interface NativeContext {
  readonly contextLength: number;
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
  dispose(): void;
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
  createContext(options?: { contextLength?: number; threads?: number; kvCacheType?: 'f16' | 'f32' }): NativeContext;
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
}

export const SYNTHETIC_SHAPES = ['stories260k', 'stories15m', 'tinyllama-1.1b', 'llama-3.2-1b', 'llama-2-7b'] as const;
export type SyntheticShape = (typeof SYNTHETIC_SHAPES)[number];
export const SYNTHETIC_TYPES = ['f32', 'f16', 'q8_0', 'q4_0', 'q4_k_m'] as const;
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
