// Export of a run (PEFT folder, GGUF LoRA, merged GGUF) through the engine, then the checks users
// of other tools miss: the file must carry the chat template and end-of-turn ids the run was
// trained with, and a smoke chat must run on it. A mismatch deletes what was written and refuses
// the export with the reason. Also the run's adapter for compare and GAtt synthesis.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CoreDeps } from '../core-deps';
import type { ExportRunResult } from '../../shared/engine-protocol-train';
import { renderPromptParts } from '../chat/prompt-parts';
import { templateForModel, templateInfo } from '../chat/templates';
import type { RunsRepo, StoredRun } from '../db/runs-repo';
import { PaddockError } from '../errors';
import { modelfilePath, ollamaModelfile } from './ollama-modelfile';
import { templateHash } from './run-form';

export type ExportFormat = 'peft' | 'gguf-lora' | 'gguf-merged';
export const SMOKE_PROMPT = 'Hello! Tell me a short story.';
const SMOKE_TOKENS = 16;

export interface ExportOutcome {
  path: string;
  smokeChat: string | null;
  modelfile: string | null;
}

export class RunExporter {
  constructor(
    private readonly deps: CoreDeps,
    private readonly runs: RunsRepo,
    private readonly stored: (runId: string) => StoredRun,
    private readonly log: (runId: string, line: string) => void,
  ) {}

  /** The step of the checkpoint on disk (what an export writes), from its record. */
  private checkpointStep(r: StoredRun): number {
    const step = this.runs.checkpoints(r.id).at(-1)?.step;
    if (step === undefined || !fs.existsSync(path.join(r.runDir, 'checkpoint.safetensors'))) {
      throw new PaddockError('BAD_REQUEST', `Run "${r.name}" has no checkpoint yet: nothing trained to export.`);
    }
    return step;
  }

  /** The GGUF LoRA of the run's last checkpoint (named by its step, so a newer one never hides behind a cached file). */
  adapterFile(r: StoredRun): string {
    return path.join(r.runDir, `adapter-step${this.checkpointStep(r)}.gguf`);
  }

  async ensureAdapter(r: StoredRun): Promise<string> {
    if (r.config.method === 'full') throw new PaddockError('BAD_REQUEST', `Run "${r.name}" fine-tuned every weight: it has no adapter (use its merged model).`);
    const file = this.adapterFile(r);
    if (!fs.existsSync(file)) await this.deps.engine.call('exportRun', { runDir: r.runDir, format: 'gguf-lora', out: file });
    return file;
  }

  /** What compare's tuned side runs: the base with the adapter, or (full fine-tuning) the merged model. */
  async tunedModel(r: StoredRun): Promise<{ modelPath: string; tokenizerPath: string | null; adapterPath: string | null }> {
    if (r.config.method !== 'full') return { modelPath: r.config.model, tokenizerPath: r.config.tokenizer ?? null, adapterPath: await this.ensureAdapter(r) };
    const merged = path.join(r.runDir, `merged-step${this.checkpointStep(r)}.gguf`);
    if (!fs.existsSync(merged)) await this.deps.engine.call('exportRun', { runDir: r.runDir, format: 'gguf-merged', type: 'f16', out: merged });
    return { modelPath: merged, tokenizerPath: null, adapterPath: null };
  }

  async export(runId: string, format: ExportFormat, type?: 'f16' | 'q8_0' | 'q4_k_m', out?: string): Promise<ExportOutcome> {
    const r = this.stored(runId);
    if (r.status === 'running' || r.status === 'queued') throw new PaddockError('BAD_REQUEST', `Run "${r.name}" is ${r.status}: pause it or let it finish before exporting.`);
    const step = this.checkpointStep(r);
    if (r.config.method === 'full' && format !== 'gguf-merged') throw new PaddockError('BAD_REQUEST', `Run "${r.name}" fine-tuned every weight: only gguf-merged applies (there is no adapter).`);
    if (type && format !== 'gguf-merged') throw new PaddockError('BAD_REQUEST', 'type applies to gguf-merged only (adapters are written in F32).');
    const model = r.modelId ? this.deps.models.get(r.modelId) : undefined;
    if (!model) throw new PaddockError('BAD_REQUEST', `Run "${r.name}": its base model was removed; import it again to export.`);
    const target = out ?? this.defaultPath(r, format, type);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const template = templateForModel(model.metadata);
    const parts = renderPromptParts(template, [{ role: 'user', content: SMOKE_PROMPT }], { addGenerationPrompt: true });
    let result: ExportRunResult;
    try {
      result = await this.deps.engine.call('exportRun', {
        runDir: r.runDir,
        format,
        ...(format === 'gguf-merged' && { type: type ?? 'f16' }),
        out: target,
        smoke: { parts, maxTokens: SMOKE_TOKENS, stop: template.stopStrings },
      });
    } catch (err) {
      fs.rmSync(target, { recursive: true, force: true });
      throw err;
    }
    const mismatch = this.mismatch(r, result);
    if (mismatch) {
      fs.rmSync(result.path, { recursive: true, force: true });
      this.log(r.id, `export ${format} refused: ${mismatch}`);
      throw new PaddockError('BAD_REQUEST', `Export refused: ${mismatch}. Nothing was written.`);
    }
    let modelfile: string | null = null;
    if (format === 'gguf-merged') {
      modelfile = modelfilePath(result.path);
      fs.writeFileSync(modelfile, ollamaModelfile(result.path, template));
    }
    this.log(r.id, `exported ${format}${format === 'gguf-merged' ? ` (${type ?? 'f16'})` : ''} of step ${step} to ${result.path}; smoke chat: ${JSON.stringify(result.smokeChat)}`);
    return { path: result.path, smokeChat: result.smokeChat, modelfile };
  }

  /** Why the exported file would chat differently from the run, or null when it matches. */
  private mismatch(r: StoredRun, res: ExportRunResult): string | null {
    const fileHash = templateHash({ chatTemplate: templateInfo(res.file.metadata) });
    if (r.templateHash && fileHash !== r.templateHash) {
      return `the exported file's chat template (${templateInfo(res.file.metadata).name}) is not the one the run was trained with (template hash ${fileHash.slice(0, 12)} vs ${r.templateHash.slice(0, 12)})`;
    }
    const t = r.specialTokens;
    if (t && (t.eosId !== res.file.eosId || t.eotId !== res.file.eotId || t.bosId !== res.file.bosId)) {
      return `the exported file's special tokens (BOS ${res.file.bosId}, EOS ${res.file.eosId}, EOT ${res.file.eotId}) differ from the run's (BOS ${t.bosId}, EOS ${t.eosId}, EOT ${t.eotId})`;
    }
    if (res.smokeChat === null) return 'the smoke chat did not run on the exported file';
    return null;
  }

  private defaultPath(r: StoredRun, format: ExportFormat, type?: string): string {
    const root = this.deps.dataDir === ':memory:' ? os.tmpdir() : this.deps.dataDir;
    const safe = r.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || r.id;
    const suffix = format === 'peft' ? '-peft' : format === 'gguf-lora' ? '-lora.gguf' : `-${type ?? 'f16'}.gguf`;
    return path.join(root, 'exports', `${safe}${suffix}`);
  }
}
