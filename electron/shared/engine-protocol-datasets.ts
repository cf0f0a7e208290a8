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
}

export interface TokenizedSampleDetail {
  count: number;
  tokens?: number[];
  pieces?: string[];
  weights?: number[];
}

export interface DatasetEngineMethods {
  tokenizeSamples: { params: TokenizeSamplesParams; result: { template: string; rows: TokenizedSampleDetail[] } };
}
