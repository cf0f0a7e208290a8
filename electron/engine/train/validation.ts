// Validation loss of a run: the validation rows tokenized and packed exactly as the training rows
// (same template, mask and length), then the trainer's forward-only mean masked loss over them;
// perplexity = exp(loss). Evaluated on the first MAX_ROWS packed rows so a large validation split
// can't stall the run (the same rows every time, so the values form a curve).
import type { RunConfig } from '../../core/training/run-config';
import type { NativeModel, NativeTrainer, NativeTrainRow } from '../addon';
import { loadTrainingData } from './training-data';

export const MAX_VALIDATION_ROWS = 64;

export interface ValidationResult {
  valLoss: number;
  perplexity: number;
}

export class Validation {
  private constructor(readonly rows: NativeTrainRow[]) {}

  /** Null (with a log line saying why) when the file has nothing to evaluate. */
  static async load(model: NativeModel, c: RunConfig, file: string, log: (m: string) => void): Promise<Validation | null> {
    try {
      const data = await loadTrainingData(model, { ...c, data: file, format: 'auto' }, (m) => log(`validation: ${m}`));
      if (data.rows.length > MAX_VALIDATION_ROWS) log(`validation: ${data.rows.length} packed rows, the loss is measured on the first ${MAX_VALIDATION_ROWS}`);
      return new Validation(data.rows.slice(0, MAX_VALIDATION_ROWS));
    } catch (err) {
      log(`validation: no validation loss for this run (${(err as Error).message})`);
      return null;
    }
  }

  async evaluate(trainer: NativeTrainer): Promise<ValidationResult> {
    const valLoss = await trainer.evaluate(this.rows);
    return { valLoss, perplexity: Math.exp(valLoss) };
  }
}
