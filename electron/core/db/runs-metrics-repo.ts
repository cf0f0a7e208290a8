// A run's per-step metrics (what the charts draw) and its log lines (append-only). Metrics are
// keyed by step: a resumed run drops the steps after its checkpoint and records them again, so
// the stored curve is the one the resumed trainer really followed, without duplicates.
import type { StepMetric } from '../../shared/contract-runs';
import type { Db } from './connection';
import { nowIso } from './ids';

export type StoredMetric = StepMetric & { seconds: number };

export class RunMetricsRepo {
  constructor(private readonly db: Db) {}

  /** Records (or re-records) one step. */
  put(runId: string, m: StoredMetric): void {
    this.db
      .prepare(
        `INSERT INTO run_metrics (run_id, step, loss, val_loss, lr, grad_norm, tokens_per_s, seconds, at)
         VALUES (@runId, @step, @loss, @valLoss, @lr, @gradNorm, @tokensPerS, @seconds, @at)
         ON CONFLICT(run_id, step) DO UPDATE SET loss = excluded.loss, val_loss = excluded.val_loss, lr = excluded.lr,
           grad_norm = excluded.grad_norm, tokens_per_s = excluded.tokens_per_s, seconds = excluded.seconds, at = excluded.at`,
      )
      .run({ runId, ...m });
  }

  /** Sets the validation loss measured after `step` (its metric row exists by then). */
  setValLoss(runId: string, step: number, valLoss: number): void {
    this.db.prepare('UPDATE run_metrics SET val_loss = ? WHERE run_id = ? AND step = ?').run(valLoss, runId, step);
  }

  /** Steps after `sinceStep`, in order. */
  list(runId: string, sinceStep = 0): StepMetric[] {
    return this.db
      .prepare(
        `SELECT step, loss, val_loss AS valLoss, lr, grad_norm AS gradNorm, tokens_per_s AS tokensPerS, at
         FROM run_metrics WHERE run_id = ? AND step > ? ORDER BY step`,
      )
      .all(runId, sinceStep) as StepMetric[];
  }

  last(runId: string): StepMetric | undefined {
    return this.db
      .prepare(
        `SELECT step, loss, val_loss AS valLoss, lr, grad_norm AS gradNorm, tokens_per_s AS tokensPerS, at
         FROM run_metrics WHERE run_id = ? ORDER BY step DESC LIMIT 1`,
      )
      .get(runId) as StepMetric | undefined;
  }

  lastValLoss(runId: string): number | null {
    const row = this.db.prepare('SELECT val_loss AS v FROM run_metrics WHERE run_id = ? AND val_loss IS NOT NULL ORDER BY step DESC LIMIT 1').get(runId) as
      | { v: number }
      | undefined;
    return row?.v ?? null;
  }

  /** Mean seconds per step over the last `n` recorded steps (for the ETA), or null before any. */
  recentSecondsPerStep(runId: string, n = 10): number | null {
    const row = this.db
      .prepare('SELECT AVG(seconds) AS s, COUNT(*) AS c FROM (SELECT seconds FROM run_metrics WHERE run_id = ? ORDER BY step DESC LIMIT ?)')
      .get(runId, n) as { s: number | null; c: number };
    return row.c ? row.s : null;
  }

  /** Drops the steps after `step` (those a crashed or killed run did past its last checkpoint). */
  dropAfter(runId: string, step: number): number {
    return this.db.prepare('DELETE FROM run_metrics WHERE run_id = ? AND step > ?').run(runId, step).changes;
  }

  appendLog(runId: string, line: string): void {
    this.db.prepare('INSERT INTO run_logs (run_id, line, at) VALUES (?, ?, ?)').run(runId, line, nowIso());
  }

  logs(runId: string): string[] {
    return (this.db.prepare('SELECT line FROM run_logs WHERE run_id = ? ORDER BY id').all(runId) as { line: string }[]).map((r) => r.line);
  }
}
