// A training run's directory: run.json (its config, written before the first step),
// checkpoint.safetensors (written by the native trainer via a temp file + rename) and
// metrics.jsonl (one line per optimizer step, appended as each step ends).
import fs from 'node:fs';
import path from 'node:path';
import { RunConfig, validateRunConfig } from '../../core/training/run-config';

export interface StepMetrics {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens_per_s: number;
  tokens: number;
  loss_tokens: number;
  epoch: number;
  seconds: number;
  /** Validation loss measured after this step (evalEvery steps and checkpoints), when the run has validation rows. */
  val_loss?: number;
}

export class RunDir {
  constructor(readonly dir: string) {}

  get configFile(): string {
    return path.join(this.dir, 'run.json');
  }
  get checkpointFile(): string {
    return path.join(this.dir, 'checkpoint.safetensors');
  }
  get metricsFile(): string {
    return path.join(this.dir, 'metrics.jsonl');
  }

  hasCheckpoint(): boolean {
    return fs.existsSync(this.checkpointFile);
  }

  /** Writes run.json via a temp file + rename (the config is what a resume trusts). */
  writeConfig(config: RunConfig): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.configFile}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`);
    fs.renameSync(tmp, this.configFile);
  }

  readConfig(): RunConfig {
    let text: string;
    try {
      text = fs.readFileSync(this.configFile, 'utf8');
    } catch {
      throw new Error(`${this.configFile}: no run here to resume or export (run.json is missing)`);
    }
    let config: RunConfig;
    try {
      config = JSON.parse(text) as RunConfig;
      validateRunConfig(config);
    } catch (err) {
      throw new Error(`${this.configFile}: not a valid run config (${(err as Error).message})`);
    }
    return config;
  }

  appendMetrics(m: StepMetrics): void {
    // appendFileSync: in the file before the next step starts, so a kill loses nothing written.
    fs.appendFileSync(this.metricsFile, `${JSON.stringify(m)}\n`);
  }

  /** Drops the lines of steps after `lastStep` (those a killed run did after its last checkpoint). */
  truncateMetrics(lastStep: number): void {
    if (!fs.existsSync(this.metricsFile)) return;
    const kept = fs
      .readFileSync(this.metricsFile, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          return (JSON.parse(line) as StepMetrics).step <= lastStep;
        } catch {
          return false; // a line cut by the kill
        }
      });
    const tmp = `${this.metricsFile}.tmp`;
    fs.writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''));
    fs.renameSync(tmp, this.metricsFile);
  }
}
