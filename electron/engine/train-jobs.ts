// Engine handlers of training runs: TrainingRun (train/training-run.ts) as a job that streams
// TrainEvents, pause (checkpoint, then the job resolves 'paused') and cancel between steps, and
// export with a smoke chat. A run's native steps take turns with other jobs on the engine queue
// (ctx.serialized), so a chat reply waits at most one training step, and the run one reply.
import type { TrainEngineMethods, TrainEvent } from '../shared/engine-protocol-train';
import type { EngineContext, EngineHandlers } from './engine-context';
import { exportRun } from './train/export-run';
import { RunDir } from './train/run-dir';
import { TrainingRun } from './train/training-run';

export function trainJobs(ctx: EngineContext): EngineHandlers<keyof TrainEngineMethods> {
  const running = new Map<string, TrainingRun>();
  return {
    train: async (p) => {
      if (running.has(p.jobId)) throw new Error(`train: job ${p.jobId} is already running`);
      const emit = (e: TrainEvent) => ctx.emit(p.jobId, e);
      const run = new TrainingRun(ctx.addon, new RunDir(p.runDir), p.config, p.resume, {
        onStart: (s) => emit({ type: 'start', ...s }),
        onStep: (m) =>
          emit({
            type: 'step', step: m.step, totalSteps: m.total_steps, loss: m.loss, valLoss: m.val_loss ?? null, lr: m.lr,
            gradNorm: m.grad_norm, tokensPerS: m.tokens_per_s, seconds: m.seconds,
          }),
        onCheckpoint: (c) => emit({ type: 'checkpoint', step: c.step, path: c.path, valLoss: c.valLoss ?? null, perplexity: c.perplexity ?? null }),
        onLog: (line) => emit({ type: 'log', line }),
        stepDelayMs: ctx.stepDelayMs,
        ...(p.valData && { validation: { data: p.valData, every: p.evalEvery ?? 0 } }),
        stepGate: (fn) => ctx.serialized(fn),
      });
      running.set(p.jobId, run);
      try {
        return await run.run();
      } finally {
        running.delete(p.jobId);
      }
    },
    trainControl: async (p) => {
      const run = running.get(p.jobId);
      if (!run) return { ok: false };
      if (p.action === 'pause') run.suspend();
      else run.cancel();
      return { ok: true };
    },
    exportRun: (p) => ctx.serialized(() => exportRun(ctx.addon, p)),
  };
}
