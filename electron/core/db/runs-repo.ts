// Stored fine-tuning runs: the form as the user sent it, the resolved RunConfig the engine trains
// with, the pinned dataset version, status and progress. Checkpoints live beside them.
import type { RunFormConfig, RunStatus } from '../../shared/contract-runs';
import type { RunConfig } from '../training/run-config';
import type { Db } from './connection';
import { nowIso } from './ids';

export interface StoredRun {
  id: string;
  name: string;
  status: RunStatus;
  form: RunFormConfig;
  config: RunConfig;
  modelId: string | null;
  datasetId: string | null;
  datasetVersion: string;
  templateHash: string | null;
  /** The base's BOS / EOS / EOT ids as the trainer saw them (set when the run starts). */
  specialTokens: SpecialTokens | null;
  runDir: string;
  step: number;
  totalSteps: number | null;
  error: string | null;
  queuedAt: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface SpecialTokens {
  bosId: number;
  eosId: number;
  eotId: number;
}

export interface StoredCheckpoint {
  step: number;
  path: string;
  valLoss: number | null;
  perplexity: number | null;
  at: string;
}

interface RunRow {
  id: string;
  name: string;
  status: string;
  form_json: string;
  config_json: string;
  model_id: string | null;
  dataset_id: string | null;
  dataset_version: string;
  template_hash: string | null;
  special_tokens_json: string | null;
  run_dir: string;
  step: number;
  total_steps: number | null;
  error: string | null;
  queued_at: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const fromRow = (r: RunRow): StoredRun => ({
  id: r.id,
  name: r.name,
  status: r.status as RunStatus,
  form: JSON.parse(r.form_json),
  config: JSON.parse(r.config_json),
  modelId: r.model_id,
  datasetId: r.dataset_id,
  datasetVersion: r.dataset_version,
  templateHash: r.template_hash,
  specialTokens: r.special_tokens_json ? JSON.parse(r.special_tokens_json) : null,
  runDir: r.run_dir,
  step: r.step,
  totalSteps: r.total_steps,
  error: r.error,
  queuedAt: r.queued_at,
  createdAt: r.created_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** The fields a status change may set along with the status. */
export type RunStatusPatch = Partial<Pick<StoredRun, 'error' | 'startedAt' | 'finishedAt' | 'totalSteps' | 'step'>>;

export class RunsRepo {
  constructor(private readonly db: Db) {}

  insert(r: Omit<StoredRun, 'queuedAt' | 'createdAt' | 'startedAt' | 'finishedAt' | 'step' | 'totalSteps' | 'error' | 'specialTokens'>): StoredRun {
    const now = nowIso();
    this.db
      .prepare(
        `INSERT INTO runs (id, name, status, form_json, config_json, model_id, dataset_id, dataset_version, template_hash,
           run_dir, queued_at, created_at)
         VALUES (@id, @name, @status, @formJson, @configJson, @modelId, @datasetId, @datasetVersion, @templateHash,
           @runDir, @now, @now)`,
      )
      .run({ ...r, formJson: JSON.stringify(r.form), configJson: JSON.stringify(r.config), now });
    return this.get(r.id)!;
  }

  get(id: string): StoredRun | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row && fromRow(row);
  }

  list(): StoredRun[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY created_at DESC, rowid DESC').all() as RunRow[]).map(fromRow);
  }

  /** The run the queue starts next: queued longest ago. */
  nextQueued(): StoredRun | undefined {
    const row = this.db.prepare(`SELECT * FROM runs WHERE status = 'queued' ORDER BY queued_at, rowid LIMIT 1`).get() as RunRow | undefined;
    return row && fromRow(row);
  }

  withStatus(statuses: RunStatus[]): StoredRun[] {
    const marks = statuses.map(() => '?').join(', ');
    return (this.db.prepare(`SELECT * FROM runs WHERE status IN (${marks})`).all(...statuses) as RunRow[]).map(fromRow);
  }

  setStatus(id: string, status: RunStatus, patch: RunStatusPatch = {}): StoredRun {
    const cols: Record<keyof RunStatusPatch, string> = { error: 'error', startedAt: 'started_at', finishedAt: 'finished_at', totalSteps: 'total_steps', step: 'step' };
    const sets = ['status = @status'];
    const params: Record<string, unknown> = { id, status };
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      sets.push(`${cols[key as keyof RunStatusPatch]} = @${key}`);
      params[key] = value;
    }
    if (status === 'queued') {
      sets.push('queued_at = @now');
      params.now = nowIso();
    }
    this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = @id`).run(params);
    return this.get(id)!;
  }

  setSpecialTokens(id: string, t: SpecialTokens): void {
    this.db.prepare('UPDATE runs SET special_tokens_json = ? WHERE id = ?').run(JSON.stringify(t), id);
  }

  setProgress(id: string, step: number, totalSteps: number): void {
    this.db.prepare('UPDATE runs SET step = ?, total_steps = ? WHERE id = ?').run(step, totalSteps, id);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
  }

  /** Records a checkpoint (a later save at the same step replaces it). */
  addCheckpoint(runId: string, c: Omit<StoredCheckpoint, 'at'>): void {
    this.db
      .prepare(
        `INSERT INTO run_checkpoints (run_id, step, path, val_loss, perplexity, at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(run_id, step) DO UPDATE SET path = excluded.path, val_loss = excluded.val_loss, perplexity = excluded.perplexity, at = excluded.at`,
      )
      .run(runId, c.step, c.path, c.valLoss, c.perplexity, nowIso());
  }

  checkpoints(runId: string): StoredCheckpoint[] {
    return this.db
      .prepare('SELECT step, path, val_loss AS valLoss, perplexity, at FROM run_checkpoints WHERE run_id = ? ORDER BY step')
      .all(runId) as StoredCheckpoint[];
  }

  /** Drops checkpoints recorded after `step` (a resume continues from the one at `step`). */
  dropCheckpointsAfter(runId: string, step: number): void {
    this.db.prepare('DELETE FROM run_checkpoints WHERE run_id = ? AND step > ?').run(runId, step);
  }
}
