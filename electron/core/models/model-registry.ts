// The model registry: imports model files (validated by the engine before anything is stored)
// and keeps their metadata for the Models view.
import fs from 'node:fs';
import path from 'node:path';
import type { ModelRecord } from '../../shared/contract';
import type { NativeModelInfo } from '../../engine/addon';
import type { ModelsRepo, StoredModel } from '../db/models-repo';
import { templateInfo } from '../chat/templates';
import { newId, nowIso } from '../db/ids';
import type { EngineClient } from '../engine/engine-client';
import { PaddockError } from '../errors';

export class ModelRegistry {
  constructor(
    private readonly repo: ModelsRepo,
    private readonly engine: EngineClient,
  ) {}

  list(): ModelRecord[] {
    return this.repo.list().map(withTemplate);
  }

  get(id: string): ModelRecord {
    const m = this.repo.get(id);
    if (!m) throw new PaddockError('NOT_FOUND', `No model with id ${id}.`);
    return withTemplate(m);
  }

  /** The model a conversation without its own choice uses: the first one (the bundled model). */
  defaultModel(): ModelRecord | undefined {
    const m = this.repo.list()[0];
    return m && withTemplate(m);
  }

  /** Reads and validates the file in the engine first: a bad file is refused and nothing is stored. */
  async import(file: string, tokenizerPath?: string, bundled = false): Promise<ModelRecord> {
    const abs = path.resolve(file);
    const tok = tokenizerPath ? path.resolve(tokenizerPath) : undefined;
    // A model may be a folder (Hugging Face: config.json + safetensors); the engine decides what it is.
    if (!fs.existsSync(abs)) throw new PaddockError('BAD_MODEL_FILE', `${abs}: file not found.`);
    if (tok && !fs.existsSync(tok)) throw new PaddockError('BAD_MODEL_FILE', `${tok}: file not found.`);
    if (tok && fs.statSync(tok).isDirectory()) throw new PaddockError('BAD_MODEL_FILE', `${tok}: is a folder, expected a tokenizer file.`);
    const info = await this.engine.readModelInfo(abs, tok);
    if (!SUPPORTED_ARCHITECTURES.includes(info.architecture)) {
      throw new PaddockError(
        'BAD_MODEL_FILE',
        `${abs}: architecture "${info.architecture}" is not supported; Paddock runs ${SUPPORTED_ARCHITECTURES.join(', ')} models (Llama 1/2/3, Mistral- and SmolLM-style).`,
      );
    }
    return withTemplate(this.repo.upsert(toRecord(abs, tok ?? null, info, bundled)));
  }

  /** Registers the bundled model on first start (or after its file moved with an app update). */
  async ensureBundled(file: string): Promise<ModelRecord | undefined> {
    if (!fs.existsSync(file)) return undefined;
    const existing = this.repo.findByPath(path.resolve(file));
    if (existing) return withTemplate(existing);
    return this.import(file, undefined, true);
  }

  remove(id: string): void {
    const m = this.get(id);
    if (m.bundled) throw new PaddockError('BAD_REQUEST', 'The bundled model cannot be removed.');
    this.repo.remove(id);
  }
}

/** The architectures the engine runs (GGUF general.architecture; HF and llama2.c map to "llama"). */
const SUPPORTED_ARCHITECTURES = ['llama'];

const withTemplate = (m: StoredModel): ModelRecord => ({ ...m, chatTemplate: templateInfo(m.metadata) });

function toRecord(file: string, tokenizerPath: string | null, info: NativeModelInfo, bundled: boolean): StoredModel {
  const fromFile = typeof info.metadata['general.name'] === 'string' ? String(info.metadata['general.name']) : '';
  return {
    id: newId(),
    name: fromFile || info.name || path.basename(file),
    path: file,
    tokenizerPath,
    format: info.format,
    architecture: info.architecture,
    parameterCount: info.parameterCount,
    tensorType: info.tensorType,
    contextLength: info.contextLength,
    vocabSize: info.vocabSize,
    embeddingLength: info.embeddingLength,
    layerCount: info.layerCount,
    headCount: info.headCount,
    headCountKv: info.headCountKv,
    fileBytes: info.fileBytes,
    bundled,
    addedAt: nowIso(),
    metadata: info.metadata,
  };
}
