// Engine methods of a training run: the run's loop runs in the engine process (TrainingRun) and
// streams its steps as `event` messages for the job; pause and cancel land between steps.
import type { RunConfig } from '../core/training/run-config';
import type { RunStartInfo } from '../engine/train/training-run';
import type { PromptPart } from './engine-protocol';

export interface TrainParams {
  jobId: string;
  runDir: string;
  config: RunConfig;
  /** Continue the run in runDir from its checkpoint (its run.json must exist). */
  resume: boolean;
  /** Validation rows (OpenAI chat JSONL): their mean masked loss every `evalEvery` steps and at each checkpoint. */
  valData?: string;
  /** 0 = at checkpoints only. */
  evalEvery?: number;
}

/** What a train job streams to the host, in order: start, then step / checkpoint / log. */
export type TrainEvent =
  | ({ type: 'start' } & RunStartInfo)
  | { type: 'step'; step: number; totalSteps: number; loss: number; valLoss: number | null; lr: number; gradNorm: number; tokensPerS: number; seconds: number }
  | { type: 'checkpoint'; step: number; path: string; valLoss: number | null; perplexity: number | null }
  | { type: 'log'; line: string };

export interface ExportRunParams {
  runDir: string;
  format: 'peft' | 'gguf-lora' | 'gguf-merged';
  type?: 'f16' | 'q8_0' | 'q4_k_m';
  out: string;
  /**
   * A smoke chat on the exported file: this prompt (rendered with the run's template, split into
   * parts as chat does), greedy, maxTokens tokens. GGUF exports only; the adapter formats are
   * loaded onto the base for it.
   */
  smoke?: { parts: PromptPart[]; maxTokens: number; stop: string[] };
}

export interface ExportRunResult {
  path: string;
  /** What the exported file says (merged GGUF) or the base says (adapters): checked against the run by the host. */
  file: { chatTemplate: string | null; bosId: number; eosId: number; eotId: number; metadata: Record<string, string | number | boolean> };
  smokeChat: string | null;
}

export interface TrainEngineMethods {
  train: { params: TrainParams; result: { status: 'done' | 'cancelled' | 'paused'; steps: number; totalSteps: number } };
  /** pause: checkpoint after the step in flight, then the train job resolves 'paused'. */
  trainControl: { params: { jobId: string; action: 'pause' | 'cancel' }; result: { ok: boolean } };
  exportRun: { params: ExportRunParams; result: ExportRunResult };
}
