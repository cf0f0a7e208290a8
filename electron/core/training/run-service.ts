// Fine-tuning runs: a queue on the engine (one run at a time), runs and per-step metrics in
// SQLite, pause / resume / cancel, interrupted runs after a crash, export and compare.
//
// Lifecycle: create (validated, memory-checked, dataset version pinned and materialized into
// <dataDir>/runs/<id>/) -> queued -> running (the engine's `train` job) -> done | cancelled |
// paused (the engine checkpointed and stopped) | failed | interrupted (the engine process died,
// or the app did). resume puts a paused or interrupted run back in the queue; the engine then
// continues from its checkpoint (TrainingRun's resume: the identical run).
//
// Chat while a run trains: the engine runs each training step as one job on its queue, so a chat
// reply takes its turn between two steps (the run waits for the reply, the reply for one step).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelRecord } from '../../shared/contract';
import type { RunFormConfig, RunMemoryEstimate, RunStatus, RunSummary, StepMetric } from '../../shared/contract-runs';
import type { TrainEvent } from '../../shared/engine-protocol-train';
import type { CoreDeps } from '../core-deps';
import type { DatasetService } from '../datasets/dataset-service';
import { RunMetricsRepo } from '../db/runs-metrics-repo';
import { RunsRepo, type StoredRun } from '../db/runs-repo';
import { newId, nowIso } from '../db/ids';
import { PaddockError } from '../errors';
import { CompareService } from './compare-service';
import { PRESETS, type PresetName } from './presets';
import { memorySettings, modelShape, resolveRunConfig, templateHash } from './run-form';
import { RunExporter } from './run-export';
import { availableMemory, estimateRunMemory, formatBytes, refusalMessage } from './run-memory';
import { planTraining } from '../memory-plan';
import { planModelOf, type SystemService } from '../system/system-service';
import { RunRecorder } from './run-recorder';
import type { RunConfig } from './run-config';

const RESUMABLE: RunStatus[] = ['paused', 'interrupted'];
const FINISHED: RunStatus[] = ['done', 'cancelled', 'failed'];

interface ActiveRun {
  runId: string;
  jobId: string;
  recorder: RunRecorder;
  settled: Promise<void>;
}

export class RunService {
  private readonly runs: RunsRepo;
  private readonly metrics: RunMetricsRepo;
  readonly compare: CompareService;
  readonly exporter: RunExporter;
  private active?: ActiveRun;
  private tempRoot?: string;

  constructor(
    private readonly deps: CoreDeps,
    private readonly datasets: DatasetService,
    /** The CUDA device's free memory for runs on the GPU; absent in tests of CPU runs. */
    private readonly system?: Pick<SystemService, 'cudaFreeBytes'>,
  ) {
    this.runs = new RunsRepo(deps.db);
    this.metrics = new RunMetricsRepo(deps.db);
    this.exporter = new RunExporter(deps, this.runs, (id) => this.stored(id), (id, line) => this.recorderFor(id).log(line));
    this.compare = new CompareService(deps, (id) => this.stored(id), this.exporter);
  }

  /** Called once at startup: runs the app left running or queued (it crashed or was killed) become 'interrupted'. */
  recover(): void {
    for (const r of this.runs.withStatus(['running', 'queued'])) {
      this.runs.setStatus(r.id, 'interrupted', { error: 'Paddock stopped while this run was in progress; resume continues it from its last checkpoint.' });
    }
  }

  /** The absolute path of a run's adapter (GGUF LoRA of its last checkpoint), for compare and GAtt synthesis. Exported on demand by ensureAdapter. */
  adapterPath(runId: string): string {
    return this.exporter.adapterFile(this.stored(runId));
  }

  /** adapterPath, exported first when it is not there yet. */
  ensureAdapter(runId: string): Promise<string> {
    return this.exporter.ensureAdapter(this.stored(runId));
  }

  async stopAll(): Promise<void> {
    const a = this.active;
    if (!a) return;
    // Ask for a checkpoint so the run resumes where it was; the engine is closed right after.
    await this.deps.engine.call('trainControl', { jobId: a.jobId, action: 'pause' }).catch(() => undefined);
    await Promise.race([a.settled, new Promise((r) => setTimeout(r, 5000))]);
  }

  presets(): { name: string; description: string; config: Partial<RunFormConfig> }[] {
    const formKeys = new Set(['method', 'rank', 'alpha', 'dropout', 'targets', 'lr', 'schedule', 'warmup', 'warmupRatio', 'epochs', 'steps', 'batch', 'maxSeqLen', 'pack', 'checkpointActivations', 'mask', 'seed', 'saveEvery']);
    return (Object.keys(PRESETS) as PresetName[]).map((name) => ({
      name,
      description: PRESETS[name].description,
      config: { preset: name, ...Object.fromEntries(Object.entries(PRESETS[name].config).filter(([k]) => formKeys.has(k))) } as Partial<RunFormConfig>,
    }));
  }

  async estimate(form: RunFormConfig): Promise<RunMemoryEstimate> {
    const model = this.model(form.modelId);
    const config = this.resolve(form, model, path.join(os.tmpdir(), 'estimate.jsonl'));
    return this.memoryCheck(model, config);
  }

  /** CPU runs: host memory (with suggestions). CUDA runs: the trainer's device plan against the device's free memory. */
  private async memoryCheck(model: ModelRecord, config: RunConfig): Promise<RunMemoryEstimate> {
    const cpu = estimateRunMemory(modelShape(model), memorySettings(config), availableMemory());
    if (config.device !== 'cuda') return cpu;
    const free = (await this.system?.cudaFreeBytes()) ?? null;
    if (free === null) throw new PaddockError('BAD_REQUEST', 'No CUDA device is available for this run: choose the CPU.');
    const p = planTraining(planModelOf(model), 'cuda', memorySettings(config));
    const fits = p.deviceBytes <= free;
    const suggestions = !fits && cpu.fits ? [{ change: `train on the CPU (needs ${formatBytes(cpu.total)})`, patch: { device: 'cpu' as const }, total: cpu.total }] : [];
    return { total: p.deviceBytes, breakdown: p.deviceBreakdown, available: free, device: 'cuda', fits, suggestions };
  }

  async create(form: RunFormConfig): Promise<RunSummary> {
    const model = this.model(form.modelId);
    const id = newId();
    const runDir = path.join(this.runsRoot(), id);
    const data = path.join(runDir, 'data.jsonl');
    const config = this.resolve(form, model, data);
    const estimate = await this.memoryCheck(model, config);
    if (!estimate.fits) throw new PaddockError('BAD_REQUEST', refusalMessage(estimate, model.name));
    const datasetVersion = `${form.datasetId}@${form.datasetRevision ?? this.headRevision(form.datasetId)}`;
    fs.mkdirSync(runDir, { recursive: true });
    try {
      const train = await this.datasets.materialize(datasetVersion, form.split === 'all' ? 'all' : 'train', data);
      if (!train.rows) throw new PaddockError('BAD_REQUEST', `${datasetVersion}: the ${form.split} split has no rows to train on`);
      // Validation rows measure the validation loss; with split 'all' they are trained on, so none.
      if (form.split === 'train') {
        const val = await this.datasets.materialize(datasetVersion, 'validation', path.join(runDir, 'val.jsonl'));
        if (!val.rows) fs.rmSync(path.join(runDir, 'val.jsonl'), { force: true });
      }
    } catch (err) {
      fs.rmSync(runDir, { recursive: true, force: true });
      if (err instanceof PaddockError) throw err;
      throw new PaddockError('BAD_REQUEST', `${datasetVersion}: could not write the run's rows (${(err as Error).message})`);
    }
    this.runs.insert({
      id,
      name: form.name?.trim() || `${model.name} ${config.method} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
      status: 'queued',
      form,
      config,
      modelId: model.id,
      datasetId: form.datasetId,
      datasetVersion,
      templateHash: templateHash(model),
      runDir,
    });
    this.recorderFor(id).log(`queued: ${config.method} on ${model.name}, ${datasetVersion}, about ${Math.round(estimate.total / 2 ** 20)} MiB of ${Math.round(estimate.available / 2 ** 20)} MiB`);
    const summary = this.changed(id);
    this.pump();
    return summary;
  }

  list(): RunSummary[] {
    return this.runs.list().map((r) => this.summary(r));
  }

  get(runId: string): RunSummary {
    return this.summary(this.stored(runId));
  }

  metricsOf(runId: string, sinceStep = 0): StepMetric[] {
    this.stored(runId);
    return this.metrics.list(runId, sinceStep);
  }

  logs(runId: string): string[] {
    this.stored(runId);
    return this.metrics.logs(runId);
  }

  /** Running: the engine checkpoints after the step in flight and the run becomes 'paused'. Queued: paused at once. */
  async pause(runId: string): Promise<RunSummary> {
    const r = this.stored(runId);
    if (this.active?.runId === runId) {
      await this.deps.engine.call('trainControl', { jobId: this.active.jobId, action: 'pause' });
      return this.summary(r);
    }
    if (r.status !== 'queued') throw new PaddockError('BAD_REQUEST', `Run "${r.name}" is ${r.status}: only a queued or running run can be paused.`);
    this.runs.setStatus(runId, 'paused');
    return this.changed(runId);
  }

  /** A paused or interrupted run goes back in the queue; it continues from its last checkpoint. */
  resume(runId: string): RunSummary {
    const r = this.stored(runId);
    if (!RESUMABLE.includes(r.status)) throw new PaddockError('BAD_REQUEST', `Run "${r.name}" is ${r.status}: only a paused or interrupted run can be resumed.`);
    this.runs.setStatus(runId, 'queued', { error: null });
    const summary = this.changed(runId);
    this.pump();
    return summary;
  }

  async cancel(runId: string): Promise<RunSummary> {
    const r = this.stored(runId);
    if (this.active?.runId === runId) {
      await this.deps.engine.call('trainControl', { jobId: this.active.jobId, action: 'cancel' });
      return this.summary(r);
    }
    if (FINISHED.includes(r.status)) throw new PaddockError('BAD_REQUEST', `Run "${r.name}" is already ${r.status}.`);
    this.runs.setStatus(runId, 'cancelled', { finishedAt: nowIso() });
    return this.changed(runId);
  }

  /** Removes the run, its records and its folder (its exports elsewhere stay). */
  delete(runId: string): void {
    const r = this.stored(runId);
    if (this.active?.runId === runId) throw new PaddockError('BAD_REQUEST', `Run "${r.name}" is running: cancel it first.`);
    this.runs.remove(runId);
    fs.rmSync(r.runDir, { recursive: true, force: true });
  }

  /** Waits until no run is on the engine (tests). */
  async idle(): Promise<void> {
    while (this.active) await this.active.settled;
  }

  // --- the queue -------------------------------------------------------------------------

  /** Starts the oldest queued run when none is on the engine. */
  private pump(): void {
    if (this.active) return;
    const next = this.runs.nextQueued();
    if (next) this.start(next);
  }

  private start(r: StoredRun): void {
    const jobId = newId();
    const recorder = this.recorderFor(r.id);
    const resume = fs.existsSync(path.join(r.runDir, 'run.json'));
    const valData = path.join(r.runDir, 'val.jsonl');
    this.runs.setStatus(r.id, 'running', { error: null, ...(!r.startedAt && { startedAt: nowIso() }) });
    this.changed(r.id);
    const job = this.deps.engine.call(
      'train',
      {
        jobId,
        runDir: r.runDir,
        config: r.config,
        resume,
        ...(fs.existsSync(valData) && { valData, evalEvery: r.form.evalEvery ?? 0 }),
      },
      (e) => this.onEvent(recorder, e as TrainEvent),
    );
    const settled = job.then(
      async (out) => {
        if (out.status === 'paused') this.runs.setStatus(r.id, 'paused');
        else this.runs.setStatus(r.id, out.status, { finishedAt: nowIso() });
        recorder.log(`${out.status} after step ${out.steps} of ${out.totalSteps}`);
        this.changed(r.id);
        // A finished LoRA run's adapter is written right away: compare and GAtt synthesis use it.
        if (out.status === 'done' && r.config.method !== 'full') {
          await this.exporter.ensureAdapter(this.stored(r.id)).then(
            (file) => recorder.log(`adapter for compare and synthesis: ${file}`),
            (err: Error) => recorder.log(`could not write the adapter for compare (${err.message}); it is retried on first use`),
          );
        }
      },
      (err: { code?: string; message?: string }) => {
        const message = err?.message ?? String(err);
        if (err?.code === 'ENGINE_CRASHED') {
          this.runs.setStatus(r.id, 'interrupted', { error: `${message} Resume continues from the last checkpoint.` });
          recorder.log(`interrupted: ${message}`);
        } else {
          this.runs.setStatus(r.id, 'failed', { error: message, finishedAt: nowIso() });
          recorder.log(`failed: ${message}`);
        }
        this.changed(r.id);
      },
    )
      .catch((err: Error) => recorder.log(`could not record the end of the run: ${err.message}`))
      .then(() => {
        this.active = undefined;
        this.pump();
      });
    this.active = { runId: r.id, jobId, recorder, settled };
  }

  private onEvent(recorder: RunRecorder, e: TrainEvent): void {
    try {
      recorder.apply(e);
    } catch (err) {
      // A record that can't be written must not kill the run; it is said in the log.
      recorder.log(`could not record ${e.type}: ${(err as Error).message}`);
    }
  }

  // --- helpers ----------------------------------------------------------------------------

  private recorderFor(runId: string): RunRecorder {
    if (this.active?.runId === runId) return this.active.recorder;
    return new RunRecorder(runId, this.runs, this.metrics, this.deps.emit);
  }

  /** The dataset's head revision: what a run pins when the form names none. */
  private headRevision(datasetId: string): number {
    try {
      return this.datasets.get(datasetId).revision;
    } catch (err) {
      if (err instanceof PaddockError) throw err;
      throw new PaddockError('BAD_REQUEST', `Dataset ${datasetId}: ${(err as Error).message}`);
    }
  }

  private runsRoot(): string {
    if (this.deps.dataDir !== ':memory:') return path.join(this.deps.dataDir, 'runs');
    this.tempRoot ??= fs.mkdtempSync(path.join(os.tmpdir(), 'paddock-runs-'));
    return this.tempRoot;
  }

  private model(modelId: string): ModelRecord {
    try {
      return this.deps.models.get(modelId);
    } catch {
      throw new PaddockError('NOT_FOUND', `No model with id ${modelId}: import it in the Models view first.`);
    }
  }

  private resolve(form: RunFormConfig, model: ModelRecord, data: string) {
    try {
      return resolveRunConfig(form, model, data);
    } catch (err) {
      throw new PaddockError('BAD_REQUEST', `runs: ${(err as Error).message}`);
    }
  }

  private stored(runId: string): StoredRun {
    const r = this.runs.get(runId);
    if (!r) throw new PaddockError('NOT_FOUND', `No run with id ${runId}.`);
    return r;
  }

  /** Emits runs.status with the run as it is now and returns it. */
  private changed(runId: string): RunSummary {
    const summary = this.summary(this.stored(runId));
    this.deps.emit('runs.status', { run: summary });
    return summary;
  }

  private summary(r: StoredRun): RunSummary {
    const last = this.metrics.last(r.id);
    const running = r.status === 'running' && this.active?.runId === r.id;
    return {
      id: r.id,
      name: r.name,
      status: r.status,
      form: r.form,
      modelId: r.modelId,
      datasetId: r.datasetId,
      datasetVersion: r.datasetVersion,
      templateHash: r.templateHash,
      runDir: r.runDir,
      step: r.step,
      totalSteps: r.totalSteps,
      lastLoss: last?.loss ?? null,
      lastValLoss: this.metrics.lastValLoss(r.id),
      etaSeconds: running ? this.active!.recorder.eta(r.step) : null,
      checkpoints: this.runs.checkpoints(r.id),
      error: r.error,
      createdAt: r.createdAt,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
    };
  }
}
