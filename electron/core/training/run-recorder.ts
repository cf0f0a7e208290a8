// Records what a train job streams (TrainEvent) as it arrives: every step, checkpoint and log
// line goes to SQLite in its own statement before the event is pushed to the UI, so what the
// charts showed is what a reload shows. On a resume the engine says which step it continues
// after; the steps recorded past it (a killed run's work after its last checkpoint) are dropped
// and then recorded again as the resumed trainer redoes them: one continuous curve.
import type { EventName, EventPayload } from '../../shared/contract';
import type { TrainEvent } from '../../shared/engine-protocol-train';
import type { RunMetricsRepo } from '../db/runs-metrics-repo';
import type { RunsRepo } from '../db/runs-repo';

export class RunRecorder {
  /** Wall-clock time of the last step event: ETA from real step times (validation and delays included). */
  private lastAt = 0;
  private totalSteps = 0;

  constructor(
    private readonly runId: string,
    private readonly runs: RunsRepo,
    private readonly metrics: RunMetricsRepo,
    private readonly emit: <E extends EventName>(event: E, payload: EventPayload<E>) => void,
  ) {}

  log(line: string): void {
    this.metrics.appendLog(this.runId, line);
    this.emit('runs.log', { runId: this.runId, line });
  }

  /** Applies one event; anything else the engine might send is ignored. */
  apply(e: TrainEvent): void {
    const id = this.runId;
    switch (e.type) {
      case 'start': {
        this.totalSteps = e.totalSteps;
        this.lastAt = Date.now();
        const dropped = this.metrics.dropAfter(id, e.stepsDone);
        this.runs.dropCheckpointsAfter(id, e.stepsDone);
        this.runs.setProgress(id, e.stepsDone, e.totalSteps);
        this.runs.setSpecialTokens(id, { bosId: e.bosId, eosId: e.eosId, eotId: e.eotId });
        if (e.stepsDone > 0) {
          // A kill between the checkpoint's rename and its event leaves it unrecorded: it is the one resumed from.
          if (this.runs.checkpoints(id).at(-1)?.step !== e.stepsDone) {
            this.runs.addCheckpoint(id, { step: e.stepsDone, path: e.checkpointPath, valLoss: null, perplexity: null });
          }
          this.log(`resuming after step ${e.stepsDone} (its checkpoint)${dropped ? `; ${dropped} later step(s) recorded before the stop are redone` : ''}`);
        }
        return;
      }
      case 'step': {
        const now = Date.now();
        const seconds = this.lastAt ? (now - this.lastAt) / 1000 : e.seconds;
        this.lastAt = now;
        this.totalSteps = e.totalSteps;
        const metric = { step: e.step, loss: e.loss, valLoss: e.valLoss, lr: e.lr, gradNorm: e.gradNorm, tokensPerS: e.tokensPerS, at: now };
        this.metrics.put(id, { ...metric, seconds });
        this.runs.setProgress(id, e.step, e.totalSteps);
        this.emit('runs.step', { runId: id, metric, totalSteps: e.totalSteps, etaSeconds: this.eta(e.step) });
        return;
      }
      case 'checkpoint':
        this.runs.addCheckpoint(id, { step: e.step, path: e.path, valLoss: e.valLoss, perplexity: e.perplexity });
        if (e.valLoss !== null) this.metrics.setValLoss(id, e.step, e.valLoss);
        this.log(`checkpoint at step ${e.step}${e.valLoss !== null ? `: validation loss ${e.valLoss.toFixed(4)}, perplexity ${e.perplexity!.toFixed(2)}` : ''}`);
        return;
      case 'log':
        this.log(e.line);
        return;
    }
  }

  /** Seconds left: the mean of the recent steps' wall time times the steps to go. */
  eta(step: number): number | null {
    const perStep = this.metrics.recentSecondsPerStep(this.runId);
    return perStep === null || !this.totalSteps ? null : Math.max(0, this.totalSteps - step) * perStep;
  }
}
