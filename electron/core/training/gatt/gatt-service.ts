// Ghost Attention: instruction builder, synthesis of a GAtt dataset with the current model, and
// the system-message adherence eval (Llama 2 sec. 3.3). The sampling runs on the engine
// (sampleDialogues, one dialogue after another, cancellable between replies); this side plans the
// dialogues, turns the replies into rows and scores them.
import type { output } from 'zod';
import type { gattContract } from '../../../shared/contract-gatt';
import type { GenerationSettings } from '../../../shared/engine-protocol';
import type { DialogueToSample, SampleDialoguesProgress } from '../../../shared/engine-protocol-gatt';
import type { CoreDeps } from '../../core-deps';
import type { DatasetService } from '../../datasets/dataset-service';
import { PaddockError } from '../../errors';
import type { RunService } from '../run-service';
import { adherenceDialogues, adherencePerTurn } from './adherence';
import { InstructionBuilder } from './instructions';
import { planSynthesis, synthesizedRows } from './synthesis';

type Req<N extends keyof typeof gattContract> = output<(typeof gattContract)[N]['request']>;
type Res<N extends keyof typeof gattContract> = output<(typeof gattContract)[N]['response']>;

export class GattService {
  constructor(
    private readonly deps: CoreDeps,
    private readonly datasets: DatasetService,
    private readonly runs: RunService,
  ) {}

  instructions(req: Req<'gatt.instructions'>): Res<'gatt.instructions'> {
    return new InstructionBuilder(req).take(req.count);
  }

  async synthesize(req: Req<'gatt.synthesize'>): Promise<Res<'gatt.synthesize'>> {
    const rows = this.datasets.readVersion(req.datasetId);
    const plan = planSynthesis(rows, { minTurns: req.minTurns, maxRows: req.maxRows, instructions: req.instructions });
    if (!plan.sources.length) {
      throw new PaddockError('BAD_REQUEST', `dataset ${req.datasetId}: no chat row has ${req.minTurns} or more user turns (of ${rows.length} rows): GAtt needs multi-turn dialogues`);
    }
    const { replies, cancelled } = await this.sample(req.jobId, req.modelId, req.runId, plan.toSample, 'synthesis', {
      temperature: req.temperature,
      maxTokens: req.maxTokens,
      seed: req.seed,
    });
    // A cancelled synthesis keeps the dialogues it finished (sampling them took the user's time).
    if (!replies.length) throw new PaddockError('BAD_REQUEST', `gatt.synthesize ${req.jobId}: cancelled before the first dialogue was finished; nothing stored`);
    const out = synthesizedRows(plan, replies, req.rowsPerDialogue);
    const name = req.name ?? `${req.datasetId} (GAtt${cancelled ? `, ${replies.length} of ${plan.sources.length} dialogues` : ''})`;
    return { datasetId: this.datasets.createFromRows(name, 'gatt', out), rows: out.length };
  }

  async cancel(jobId: string): Promise<{ ok: true }> {
    await this.deps.engine.call('cancelSampling', { jobId });
    return { ok: true };
  }

  /** Adherence per turn for the base and, with a run, the base + the run's adapter, on the same dialogues. */
  async adherence(req: Req<'eval.adherence'>): Promise<Res<'eval.adherence'>> {
    const instructions = new InstructionBuilder(req.instructions).take(req.dialogues);
    if (instructions.some((i) => !i.checks.length)) {
      throw new PaddockError('BAD_REQUEST', `eval.adherence: instructions need a machine check: use kinds signoff, language or figure (got ${req.instructions.kinds.join(', ')})`);
    }
    const dialogues = adherenceDialogues(instructions, req.turns, req.seed);
    const settings = { temperature: req.temperature, maxTokens: req.maxTokens, seed: req.seed };
    const score = async (runId: string | undefined, stage: string) => {
      const { replies } = await this.sample(req.jobId, req.modelId, runId, dialogues, stage, settings);
      return adherencePerTurn(replies.map((r, i) => ({ instruction: dialogues[i].instruction, replies: r })), req.turns);
    };
    const base = await score(undefined, 'eval base');
    const tuned = req.runId ? await score(req.runId, 'eval fine-tuned') : null;
    return { base, tuned };
  }

  private async sample(
    jobId: string,
    modelId: string,
    runId: string | undefined,
    dialogues: DialogueToSample[],
    stage: string,
    s: Pick<GenerationSettings, 'temperature' | 'maxTokens' | 'seed'>,
  ) {
    const model = this.deps.models.get(modelId);
    const settings: GenerationSettings = { ...s, topP: 0.95, topK: 40, stop: [] };
    this.deps.emit('gatt.progress', { jobId, done: 0, total: dialogues.length, stage });
    // A run's adapter file exists once exported (after the run, or now on demand).
    const adapterPath = runId ? await this.runs.ensureAdapter(runId) : undefined;
    return this.deps.engine.call(
      'sampleDialogues',
      {
        jobId,
        modelPath: model.path,
        tokenizerPath: model.tokenizerPath,
        ...(adapterPath ? { adapterPath } : {}),
        dialogues,
        settings,
        stage,
      },
      (e) => {
        const p = e as SampleDialoguesProgress;
        this.deps.emit('gatt.progress', { jobId, done: p.done, total: p.total, stage: p.stage });
      },
    );
  }
}
