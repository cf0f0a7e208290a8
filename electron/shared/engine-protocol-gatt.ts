// Engine methods of Ghost Attention synthesis and the adherence eval: many multi-turn dialogues
// whose assistant replies are sampled one after another with the current model (base, or base +
// a LoRA adapter), each reply in the context of the previous ones. Progress streams per dialogue.
import type { GenerationSettings } from './engine-protocol';

export interface DialogueToSample {
  /** The system message, if any. */
  system?: string;
  /** The user turns in order; a reply is sampled after each. */
  users: string[];
}

export interface SampleDialoguesParams {
  jobId: string;
  modelPath: string;
  tokenizerPath: string | null;
  /** A GGUF LoRA file or PEFT folder attached on the base while sampling; none = the base. */
  adapterPath?: string;
  dialogues: DialogueToSample[];
  settings: GenerationSettings;
  /** Named in the progress events ("synthesis", "eval base", ...). */
  stage: string;
  contextLength?: number;
  threads?: number;
}

/** `event` messages of a sampleDialogues job: one per finished dialogue. */
export interface SampleDialoguesProgress {
  done: number;
  total: number;
  stage: string;
}

export interface GattEngineMethods {
  /** replies[i][k] answers users[k] of dialogue i; a cancelled job returns the dialogues finished so far. */
  sampleDialogues: { params: SampleDialoguesParams; result: { replies: string[][]; cancelled: boolean } };
  /** Stops a sampleDialogues job after the reply in flight. */
  cancelSampling: { params: { jobId: string }; result: { ok: boolean } };
}
