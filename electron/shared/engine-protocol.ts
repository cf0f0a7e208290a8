// Messages between the app host and the engine process (internal to the host side: the renderer
// never sees them). One request in flight per id; generation streams `token` messages by job.
import type { ContextPolicy, GenerationStats, LogitBiasEntry } from './contract';
import type { NativeModelInfo } from '../engine/addon';
import type { DatasetEngineMethods } from './engine-protocol-datasets';
import type { GattEngineMethods } from './engine-protocol-gatt';
import type { TrainEngineMethods } from './engine-protocol-train';
import type { SystemEngineMethods } from './engine-protocol-system';
import type { BackendReport, DeviceChoice } from './contract-system';

export interface GenerationSettings {
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  /** The seed to use; the host draws one when the user asked for random. */
  seed: number;
  stop: string[];
  // Optional so callers that predate them (the CLI) keep working; the engine's defaults are "off".
  minP?: number;
  repeatPenalty?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** Penalty window in tokens (default 64). */
  penaltyLastN?: number;
  /** Resolved to token ids by the engine with the model's tokenizer. */
  logitBias?: LogitBiasEntry[];
  /** Default 'truncate'. */
  contextPolicy?: ContextPolicy;
}

/**
 * A rendered chat prompt, split so special tokens are parsed only where the template wrote them:
 * `template` text may hold control-token texts (<|eot_id|>, <s>), `content` is a message's text
 * and is never parsed for them, `bos` / `eos` stand for the model's own tokens (what the template
 * printed for bos_token / eos_token). `message` numbers the content parts' messages (0-based) and
 * `role` says whose they are, so the engine can drop whole old turns when the prompt is too long.
 */
export type PromptPart =
  | { kind: 'template'; text: string }
  | { kind: 'content'; text: string; message: number; role: 'system' | 'user' | 'assistant' }
  | { kind: 'bos' }
  | { kind: 'eos' };

export interface GenerateParams {
  jobId: string;
  modelPath: string;
  tokenizerPath: string | null;
  /** Fully templated prompt text (bos/eos printed as nothing); BOS is added by the engine. */
  prompt: string;
  /** The same prompt split for special-token parsing; when given, the engine tokenizes these instead of `prompt`. */
  parts?: PromptPart[];
  settings: GenerationSettings;
  contextLength?: number;
  threads?: number;
  /** A LoRA adapter (GGUF LoRA file or PEFT folder) hot-swapped onto the loaded base for this reply; absent/null = the base alone. */
  adapterPath?: string | null;
  /** Where the context runs (default 'auto'); gpuLayers counted from the last layer, absent = all. */
  device?: DeviceChoice;
  gpuLayers?: number;
}

export interface GenerateResult {
  text: string;
  stats: GenerationStats;
  /** What the context runs on (absent from fakes and jobs stopped before loading). */
  backend?: BackendReport;
}

/** Every engine method; each area declares its own in engine-protocol-<area>.ts. */
export interface EngineMethods extends DatasetEngineMethods, TrainEngineMethods, GattEngineMethods, SystemEngineMethods {
  readModelInfo: { params: { path: string; tokenizerPath?: string }; result: NativeModelInfo };
  generate: { params: GenerateParams; result: GenerateResult };
  stop: { params: { jobId: string }; result: { stopped: boolean } };
  ping: { params: Record<string, never>; result: { pid: number } };
}
export type EngineMethod = keyof EngineMethods;

export type HostToEngine = { type: 'request'; id: number; method: EngineMethod; params: unknown };

export type EngineToHost =
  | { type: 'ready'; pid: number }
  | { type: 'response'; id: number; result?: unknown; error?: { code: string; message: string } }
  | { type: 'token'; jobId: string; text: string }
  /** A long job's progress (training steps, synthesis progress), for the job's `onEvent`. */
  | { type: 'event'; jobId: string; event: unknown };
