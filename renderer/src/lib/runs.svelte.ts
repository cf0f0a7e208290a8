// The Train view's state: the runs (kept current by runs.status events), the one open run, its
// metrics (runs.metrics when opened, then runs.step events) and logs, presets, and the datasets a
// run can train on. Metrics of other runs are loaded on demand (comparing two curves).
import type { DatasetSummary } from '../../../electron/shared/contract-datasets';
import type { RunSummary, StepMetric } from '../../../electron/shared/contract-runs';
import type { CallRequest, CallResponse } from './api';
import { api } from './api';
import { mergeMetrics } from '../train/metrics';

export type Preset = CallResponse<'runs.presets'>[number];
export type TrainPane = 'new' | 'run' | 'gatt';

/** Statuses in which the engine may still add steps. */
export const ACTIVE: readonly RunSummary['status'][] = ['queued', 'running', 'paused'];

class Runs {
  list = $state<RunSummary[]>([]);
  loaded = $state(false);
  presets = $state<Preset[]>([]);
  datasets = $state<DatasetSummary[]>([]);
  pane = $state<TrainPane>('new');
  selectedId = $state<string | null>(null);
  selected = $derived(this.list.find((r) => r.id === this.selectedId) ?? null);
  /** By run id; only runs whose metrics were loaded are kept current. */
  metrics = $state<Record<string, StepMetric[]>>({});
  logs = $state<Record<string, string[]>>({});
  /** The latest ETA per run from runs.step (the summary's is as of its last status change). */
  eta = $state<Record<string, number | null>>({});
  finished = $derived(this.list.filter((r) => r.status === 'done' || r.checkpoints.length > 0));

  constructor() {
    api.on('runs.status', ({ run }) => this.upsert(run));
    api.on('runs.step', ({ runId, metric, totalSteps, etaSeconds }) => {
      this.eta[runId] = etaSeconds;
      const run = this.list.find((r) => r.id === runId);
      if (run) {
        run.step = Math.max(run.step, metric.step);
        run.totalSteps = totalSteps;
        run.lastLoss = metric.loss;
        if (metric.valLoss !== null) run.lastValLoss = metric.valLoss;
      }
      const have = this.metrics[runId];
      if (have) this.metrics[runId] = mergeMetrics(have, [metric]);
    });
    api.on('runs.log', ({ runId, line }) => {
      const have = this.logs[runId];
      if (have) have.push(line);
    });
  }

  async load(): Promise<void> {
    const [list, presets, datasets] = await Promise.all([
      api.call('runs.list', {}),
      api.call('runs.presets', {}),
      api.call('datasets.list', {}),
    ]);
    this.list = list;
    this.presets = presets;
    this.datasets = datasets;
    this.loaded = true;
    if (this.selectedId && !list.some((r) => r.id === this.selectedId)) this.showNew();
    if (this.selectedId) await this.open(this.selectedId);
  }

  async reloadDatasets(): Promise<void> {
    this.datasets = await api.call('datasets.list', {});
  }

  upsert(run: RunSummary): void {
    const i = this.list.findIndex((r) => r.id === run.id);
    if (i >= 0) this.list[i] = run;
    else this.list = [run, ...this.list];
  }

  showNew(): void {
    this.pane = 'new';
    this.selectedId = null;
  }

  showGatt(): void {
    this.pane = 'gatt';
    this.selectedId = null;
  }

  /** Selects a run and loads its whole curve and logs. */
  async open(runId: string): Promise<void> {
    this.pane = 'run';
    this.selectedId = runId;
    await Promise.all([this.loadMetrics(runId), this.loadLogs(runId)]);
  }

  async loadMetrics(runId: string): Promise<StepMetric[]> {
    // From here on step events are kept, so those that arrive while the call is in flight (after
    // the server read its rows) are merged in rather than lost.
    this.metrics[runId] ??= [];
    const got = await api.call('runs.metrics', { runId, sinceStep: 0 });
    const merged = mergeMetrics(got, this.metrics[runId] ?? []);
    this.metrics[runId] = merged;
    return merged;
  }

  async loadLogs(runId: string): Promise<void> {
    // As with metrics: lines that arrive during the call are kept and joined to the stored ones.
    this.logs[runId] = [];
    const during = this.logs[runId]; // the state proxy the log events push to
    const stored = await api.call('runs.logs', { runId });
    this.logs[runId] = joinLines(stored, this.logs[runId] === during ? [...during] : []);
  }

  async create(form: CallRequest<'runs.create'>): Promise<RunSummary> {
    const run = await api.call('runs.create', form);
    this.upsert(run);
    await this.open(run.id);
    return run;
  }

  async control(action: 'pause' | 'resume' | 'cancel', runId: string): Promise<void> {
    const run = await api.call(`runs.${action}`, { runId });
    this.upsert(run);
  }

  async remove(runId: string): Promise<void> {
    await api.call('runs.delete', { runId });
    this.list = this.list.filter((r) => r.id !== runId);
    delete this.metrics[runId];
    delete this.logs[runId];
    if (this.selectedId === runId) this.showNew();
  }

  byId(id: string | null | undefined): RunSummary | null {
    return (id && this.list.find((r) => r.id === id)) || null;
  }
}

/** `stored` then the lines of `live` it doesn't already end with (they overlap when events raced the load). */
function joinLines(stored: string[], live: string[]): string[] {
  for (let k = Math.min(stored.length, live.length); k > 0; k--) {
    if (stored.slice(stored.length - k).every((line, i) => line === live[i])) return [...stored, ...live.slice(k)];
  }
  return [...stored, ...live];
}

export const runs = new Runs();
