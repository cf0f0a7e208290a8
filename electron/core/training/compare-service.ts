// Compare: the same prompt to the base and to the fine-tuned model, on ONE loaded base with the
// run's adapter hot-swapped (generate's adapterPath; full fine-tuning runs use their merged
// model). Both sides get the same template, seed and settings, one after the other (the engine
// runs one job at a time); tokens stream as compare.token per side. Blind A/B choices are stored
// as preference records (chosen / rejected, with Llama 2's rating strength).
import { randomUUID } from 'node:crypto';
import type { CoreDeps } from '../core-deps';
import { promptText, renderPromptParts } from '../chat/prompt-parts';
import { templateForModel } from '../chat/templates';
import { PreferencesRepo, type PreferenceRecord } from '../db/runs-preferences-repo';
import type { StoredRun } from '../db/runs-repo';
import { PaddockError } from '../errors';
import type { RunExporter } from './run-export';

export interface CompareRequest {
  compareId: string;
  runId: string;
  prompt: string;
  systemPrompt: string;
  maxTokens: number;
  seed: number;
  temperature: number;
}

export class CompareService {
  private readonly prefs: PreferencesRepo;

  constructor(
    private readonly deps: CoreDeps,
    private readonly stored: (runId: string) => StoredRun,
    private readonly exporter: RunExporter,
  ) {
    this.prefs = new PreferencesRepo(deps.db);
  }

  async send(req: CompareRequest): Promise<{ base: string; tuned: string }> {
    const run = this.stored(req.runId);
    if (!run.modelId) throw new PaddockError('BAD_REQUEST', `Run "${run.name}": its base model was removed.`);
    const model = this.deps.models.get(run.modelId);
    const tuned = await this.exporter.tunedModel(run);
    const template = templateForModel(model.metadata);
    const parts = renderPromptParts(
      template,
      [...(req.systemPrompt.trim() ? [{ role: 'system' as const, content: req.systemPrompt }] : []), { role: 'user' as const, content: req.prompt }],
      { addGenerationPrompt: true },
    );
    const settings = { temperature: req.temperature, topP: 0.95, topK: 40, maxTokens: req.maxTokens, seed: req.seed, stop: template.stopStrings };
    const side = async (name: 'base' | 'tuned', target: { modelPath: string; tokenizerPath: string | null; adapterPath: string | null }) => {
      const r = await this.deps.engine.generate(
        { jobId: randomUUID(), ...target, prompt: promptText(parts), parts, settings },
        (text) => this.deps.emit('compare.token', { compareId: req.compareId, side: name, text }),
      );
      return r.text;
    };
    const base = await side('base', { modelPath: model.path, tokenizerPath: model.tokenizerPath, adapterPath: null });
    return { base, tuned: await side('tuned', tuned) };
  }

  rate(r: { runId: string; prompt: string; systemPrompt: string; chosen: string; rejected: string; chosenSide: 'base' | 'tuned'; strength: string }): { id: string } {
    this.stored(r.runId);
    return { id: this.prefs.insert(r).id };
  }

  preferences(runId?: string): PreferenceRecord[] {
    return this.prefs.list(runId);
  }
}
