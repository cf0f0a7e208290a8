// Stored model records: what the registry knows about each model file.
import type { ModelRecord } from '../../shared/contract';

/** What is stored; the chat template is derived from the metadata when listed. */
export type StoredModel = Omit<ModelRecord, 'chatTemplate'>;
import type { Db } from './connection';

interface ModelRow {
  id: string;
  name: string;
  path: string;
  tokenizer_path: string | null;
  format: string;
  architecture: string;
  parameter_count: number;
  tensor_type: string;
  context_length: number;
  vocab_size: number;
  embedding_length: number;
  layer_count: number;
  head_count: number;
  head_count_kv: number;
  file_bytes: number;
  bundled: number;
  metadata_json: string;
  added_at: string;
}

const fromRow = (r: ModelRow): StoredModel => ({
  id: r.id,
  name: r.name,
  path: r.path,
  tokenizerPath: r.tokenizer_path,
  format: r.format as ModelRecord['format'],
  architecture: r.architecture,
  parameterCount: r.parameter_count,
  tensorType: r.tensor_type,
  contextLength: r.context_length,
  vocabSize: r.vocab_size,
  embeddingLength: r.embedding_length,
  layerCount: r.layer_count,
  headCount: r.head_count,
  headCountKv: r.head_count_kv,
  fileBytes: r.file_bytes,
  bundled: r.bundled === 1,
  addedAt: r.added_at,
  metadata: JSON.parse(r.metadata_json),
});

export class ModelsRepo {
  constructor(private readonly db: Db) {}

  list(): StoredModel[] {
    const rows = this.db.prepare('SELECT * FROM models ORDER BY bundled DESC, added_at').all() as ModelRow[];
    return rows.map(fromRow);
  }

  get(id: string): StoredModel | undefined {
    const row = this.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
    return row && fromRow(row);
  }

  findByPath(path: string): StoredModel | undefined {
    const row = this.db.prepare('SELECT * FROM models WHERE path = ?').get(path) as ModelRow | undefined;
    return row && fromRow(row);
  }

  /** Inserts, or refreshes the record of the same path (re-import after the file changed). */
  upsert(m: StoredModel): StoredModel {
    this.db
      .prepare(
        `INSERT INTO models (id, name, path, tokenizer_path, format, architecture, parameter_count, tensor_type,
           context_length, vocab_size, embedding_length, layer_count, head_count, head_count_kv, file_bytes, bundled,
           metadata_json, added_at)
         VALUES (@id, @name, @path, @tokenizerPath, @format, @architecture, @parameterCount, @tensorType,
           @contextLength, @vocabSize, @embeddingLength, @layerCount, @headCount, @headCountKv, @fileBytes, @bundled,
           @metadataJson, @addedAt)
         ON CONFLICT(path) DO UPDATE SET name = excluded.name, tokenizer_path = excluded.tokenizer_path,
           format = excluded.format, architecture = excluded.architecture, parameter_count = excluded.parameter_count,
           tensor_type = excluded.tensor_type, context_length = excluded.context_length, vocab_size = excluded.vocab_size,
           embedding_length = excluded.embedding_length, layer_count = excluded.layer_count,
           head_count = excluded.head_count, head_count_kv = excluded.head_count_kv, file_bytes = excluded.file_bytes,
           bundled = excluded.bundled, metadata_json = excluded.metadata_json`,
      )
      .run({ ...m, bundled: m.bundled ? 1 : 0, metadataJson: JSON.stringify(m.metadata) });
    return this.findByPath(m.path)!;
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM models WHERE id = ?').run(id).changes > 0;
  }
}
