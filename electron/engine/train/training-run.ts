// The training loop of the engine process (DESIGN.md: loops in TypeScript, steps in C++): it awaits
// one native optimizer step at a time, reports every step, checkpoints every K steps and at the
// end, and honours cancel and pause between steps. A resumed run restores the trainer (parameters,
// moments, step) and the data order (shuffle generator + cursor) and continues the identical run.
import type { Addon, NativeModel, NativeTrainer, NativeTrainerConfig } from '../addon';
import { backendLabel } from '../../shared/backend-label';
import { backendReport } from '../backend-report';
import { RunConfig, totalSteps, warmupSteps } from '../../core/training/run-config';
import { DataOrder, DataOrderState } from './data-order';
import { RunDir, StepMetrics } from './run-dir';
import { TrainingData, loadTrainingData } from './training-data';
import { Validation, type ValidationResult } from './validation';

export interface TrainingCallbacks {
  /** Every step; `val_loss` is set on the steps validation ran (evalEvery, checkpoints). */
  onStep?(m: StepMetrics & { total_steps: number }): void;
  /** Notices for a person (stderr in the CLI). */
  onLog?(msg: string): void;
  /** Before the first step: the run's size, and the step a resume continues after (0 = fresh). */
  onStart?(info: RunStartInfo): void;
  /** After each checkpoint is on disk, with the validation loss measured at its step (if any). */
  onCheckpoint?(c: { step: number; path: string } & Partial<ValidationResult>): void;
  /** Waits this long after each step (tests: a kill lands mid-run on a tiny model). */
  stepDelayMs?: number;
  /** Validation rows (any format the trainer reads) and how often to evaluate (0 = at checkpoints only). */
  validation?: { data: string; every: number };
  /** Runs each native step (the engine makes steps take turns with chat replies on its job queue). */
  stepGate?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface RunStartInfo {
  totalSteps: number;
  rows: number;
  validationRows: number;
  stepsDone: number;
  trainableParameters: number;
  /** The checkpoint file (a resume continued from it when stepsDone > 0). */
  checkpointPath: string;
  /** The base's special tokens the rows were tokenized with (an export must carry the same). */
  bosId: number;
  eosId: number;
  eotId: number;
}

export interface TrainingOutcome {
  /** 'paused': suspend() stopped the run after a checkpoint; resume continues it. */
  status: 'done' | 'cancelled' | 'paused';
  steps: number;
  totalSteps: number;
}

/** What the checkpoint's extra JSON holds for the loop. */
interface LoopState {
  version: 1;
  order: DataOrderState;
  /** The data the order indexes: a resume on other data would silently train on other rows. */
  rows: number;
  tokens: number;
}

const QUANTIZED = /^(Q\d|IQ\d|TQ)/i;

export function nativeTrainerConfig(c: RunConfig, total: number): NativeTrainerConfig {
  return {
    method: c.method === 'full' ? 'full' : 'lora',
    rank: c.rank,
    alpha: c.alpha,
    dropout: c.dropout,
    targets: c.targets.join(','),
    lr: c.lr,
    beta1: c.beta1,
    beta2: c.beta2,
    eps: c.eps,
    weightDecay: c.weightDecay,
    clipNorm: c.clipNorm,
    schedule: c.schedule,
    warmupSteps: warmupSteps(c, total),
    totalSteps: total,
    finalRatio: c.finalRatio,
    maxSeqLen: c.maxSeqLen,
    checkpointActivations: c.checkpointActivations,
    seed: c.seed,
    threads: c.threads,
    ...(c.device !== undefined && { device: c.device }),
  };
}

/** Loads the run's base model; errors name the file. */
export async function loadBaseModel(addon: Addon, c: RunConfig): Promise<NativeModel> {
  try {
    return await addon.loadModel(c.model, c.tokenizer ? { tokenizerPath: c.tokenizer } : undefined);
  } catch (err) {
    const e = err as Error & { code?: string };
    const wrapped = new Error(e.message.includes(c.model) ? e.message : `${c.model}: ${e.message}`) as Error & { code?: string };
    wrapped.code = e.code;
    throw wrapped;
  }
}

/** Builds the native trainer; OUT_OF_MEMORY becomes a message naming the model. */
export async function createTrainer(addon: Addon, model: NativeModel, c: RunConfig, total: number): Promise<NativeTrainer> {
  try {
    return await addon.createTrainer(model, nativeTrainerConfig(c, total));
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code !== 'OUT_OF_MEMORY') throw err;
    const wrapped = new Error(`${c.model}: too large to ${c.method === 'full' ? 'fully fine-tune' : 'train'} in this machine's memory (${e.message})`) as Error & { code?: string };
    wrapped.code = e.code;
    throw wrapped;
  }
}

export class TrainingRun {
  private cancelled = false;
  private suspended = false;
  private paused: { promise: Promise<void>; release: () => void } | undefined;

  constructor(
    private readonly addon: Addon,
    private readonly dir: RunDir,
    private readonly config: RunConfig,
    private readonly resume: boolean,
    private readonly callbacks: TrainingCallbacks = {},
  ) {}

  /** Stops after the step in flight; the run checkpoints and resolves 'cancelled'. */
  cancel(): void {
    this.cancelled = true;
    this.unpause();
  }

  /** Stops after the step in flight with a checkpoint of it; the run resolves 'paused' (resume continues it). */
  suspend(): void {
    this.suspended = true;
    this.unpause();
  }

  /** Holds the loop after the step in flight until unpause() (or cancel()). */
  pause(): void {
    if (this.paused) return;
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.paused = { promise, release };
  }

  unpause(): void {
    const p = this.paused;
    this.paused = undefined;
    p?.release();
  }

  async run(): Promise<TrainingOutcome> {
    const c = this.config;
    const log = (m: string) => this.callbacks.onLog?.(m);
    const model = await loadBaseModel(this.addon, c);
    let trainer: NativeTrainer | undefined;
    try {
      if (c.method === 'qlora' && !QUANTIZED.test(model.info.tensorType)) {
        log(`qlora on this ${model.info.tensorType} base quantizes nothing: the run is plain LoRA (QLoRA needs a Q8_0, Q4_0 or Q4_K model file)`);
      }
      const data = await loadTrainingData(model, c, log);
      const total = totalSteps(c, data.rows.length);
      trainer = await createTrainer(this.addon, model, c, total);
      const backend = backendReport('backend' in trainer ? trainer.backend : undefined, c.device ?? 'cpu', model.info.layerCount);
      if (backend.notice) log(backend.notice);
      if (backend.name !== 'cpu') log(`training on ${backendLabel(backend)}`);
      // Before the first step: from here on the directory holds a run that --resume continues.
      if (!this.resume) this.dir.writeConfig(c);
      const order = await this.restoreOrStart(trainer, data);
      const validation = this.callbacks.validation ? await Validation.load(model, c, this.callbacks.validation.data, log) : null;
      this.callbacks.onStart?.({
        totalSteps: total,
        rows: data.rows.length,
        validationRows: validation?.rows.length ?? 0,
        stepsDone: trainer.stepsDone,
        checkpointPath: this.dir.checkpointFile,
        trainableParameters: trainer.trainableParameters,
        bosId: model.info.bosId,
        eosId: model.info.eosId,
        eotId: model.info.eotId ?? -1,
      });
      log(
        `training ${c.method} on ${data.rows.length} rows (${data.samples} samples, ${data.tokens} tokens), ` +
          `${total} steps of ${c.batch} rows, ${trainer.trainableParameters} trainable parameters, ${c.threads} threads` +
          (trainer.stepsDone ? `, resuming after step ${trainer.stepsDone}` : ''),
      );
      return await this.loop(trainer, data, order, total, validation);
    } finally {
      trainer?.dispose();
      model.dispose();
    }
  }

  private async restoreOrStart(trainer: NativeTrainer, data: TrainingData): Promise<DataOrder> {
    if (!this.resume || !this.dir.hasCheckpoint()) {
      if (this.resume) this.callbacks.onLog?.(`${this.dir.dir}: no checkpoint yet, starting the run from step 1`);
      this.dir.truncateMetrics(0);
      return DataOrder.start(data.rows.length, this.config.seed);
    }
    const extra = await trainer.loadCheckpoint(this.dir.checkpointFile);
    let state: LoopState;
    try {
      state = JSON.parse(extra) as LoopState;
    } catch {
      throw new Error(`${this.dir.checkpointFile}: the checkpoint's loop state is not JSON`);
    }
    if (state.version !== 1 || !state.order) throw new Error(`${this.dir.checkpointFile}: no data cursor in the checkpoint`);
    if (state.rows !== data.rows.length || state.tokens !== data.tokens) {
      throw new Error(
        `${this.config.data}: the data changed since the run started (${data.rows.length} rows / ${data.tokens} tokens now, ` +
          `${state.rows} / ${state.tokens} in ${this.dir.checkpointFile}); resume needs the same data`,
      );
    }
    this.dir.truncateMetrics(trainer.stepsDone);
    return DataOrder.restore(data.rows.length, state.order);
  }

  private async save(trainer: NativeTrainer, data: TrainingData, order: DataOrder): Promise<void> {
    const state: LoopState = { version: 1, order: order.state(), rows: data.rows.length, tokens: data.tokens };
    await trainer.saveCheckpoint(this.dir.checkpointFile, JSON.stringify(state));
  }

  /** Saves a checkpoint and reports it (with the validation loss measured at its step). */
  private async checkpoint(trainer: NativeTrainer, data: TrainingData, order: DataOrder, val: ValidationResult | undefined): Promise<void> {
    await this.save(trainer, data, order);
    this.callbacks.onCheckpoint?.({ step: trainer.stepsDone, path: this.dir.checkpointFile, ...val });
  }

  private async loop(trainer: NativeTrainer, data: TrainingData, order: DataOrder, total: number, validation: Validation | null): Promise<TrainingOutcome> {
    const c = this.config;
    const gate = this.callbacks.stepGate ?? (<T>(fn: () => Promise<T>) => fn());
    const every = this.callbacks.validation?.every ?? 0;
    let savedAt = trainer.stepsDone;
    while (trainer.stepsDone < total) {
      while (this.paused) await this.paused.promise;
      if (this.cancelled || this.suspended) break;
      const rows = order.next(c.batch).map((i) => data.rows[i]);
      const t0 = performance.now();
      const r = await gate(() => trainer.step(rows));
      const seconds = (performance.now() - t0) / 1000;
      const saving = r.step % c.saveEvery === 0 || r.step === total;
      const val = validation && (saving || (every > 0 && r.step % every === 0)) ? await gate(() => validation.evaluate(trainer)) : undefined;
      const m: StepMetrics = {
        step: r.step,
        loss: r.loss,
        lr: r.lr,
        grad_norm: r.gradNorm,
        tokens_per_s: r.tokens / seconds,
        tokens: r.tokens,
        loss_tokens: r.lossTokens,
        epoch: order.epoch,
        seconds,
        ...(val && { val_loss: val.valLoss }),
      };
      this.dir.appendMetrics(m);
      this.callbacks.onStep?.({ ...m, total_steps: total });
      if (saving) {
        await this.checkpoint(trainer, data, order, val);
        savedAt = r.step;
      }
      if (this.callbacks.stepDelayMs) await new Promise((r) => setTimeout(r, this.callbacks.stepDelayMs));
    }
    if (savedAt !== trainer.stepsDone) await this.checkpoint(trainer, data, order, validation ? await gate(() => validation.evaluate(trainer)) : undefined);
    const stoppedEarly = trainer.stepsDone < total;
    const status = stoppedEarly && this.cancelled ? 'cancelled' : stoppedEarly && this.suspended ? 'paused' : 'done';
    return { status, steps: trainer.stepsDone, totalSteps: total };
  }
}
