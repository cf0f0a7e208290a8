// Messages between the app host and the engine process (internal to the host side: the renderer
// never sees them). One request in flight per id; generation streams `token` messages by job.
import type { GenerationStats } from './contract';
import type { NativeModelInfo } from '../engine/addon';

export interface GenerationSettings {
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  /** The seed to use; the host draws one when the user asked for random. */
  seed: number;
  stop: string[];
}

export interface GenerateParams {
  jobId: string;
  modelPath: string;
  tokenizerPath: string | null;
  /** Fully templated prompt text; BOS is added by the engine. */
  prompt: string;
  settings: GenerationSettings;
  contextLength?: number;
  threads?: number;
}

export interface GenerateResult {
  text: string;
  stats: GenerationStats;
}

export interface EngineMethods {
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
  | { type: 'token'; jobId: string; text: string };
