// Engine methods the datasets workbench needs: samples tokenized exactly as the trainer does
// (the model's chat template and tokenizer), for token counts and the mask preview.
import type { TrainingSample } from '../core/datasets/sample';
import type { MaskMode } from '../core/training/packing';

export interface TokenizeSamplesParams {
  modelPath: string;
  tokenizerPath: string | null;
  samples: TrainingSample[];
  mode: MaskMode;
  /** Return tokens, pieces and weights too (the mask preview); else counts only. */
  detail: boolean;
  /**
   * The chat template: a built-in id ('llama2', 'llama3', 'chatml') or Jinja source. Default: the
   * model file's own template, ChatML as text without one (what chat and training use).
   */
  template?: string;
  /** Llama 3.1+ templates print a date: pin it for reproducible rows. */
  dateString?: string;
}

export interface TokenizedSampleDetail {
  count: number;
  tokens?: number[];
  pieces?: string[];
  weights?: number[];
  /** Why this sample could not be tokenized (a template that refuses its roles, ...); count is 0 then. */
  error?: string;
}

export interface DatasetEngineMethods {
  tokenizeSamples: { params: TokenizeSamplesParams; result: { template: string; rows: TokenizedSampleDetail[] } };
}
