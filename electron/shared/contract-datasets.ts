// The datasets workbench's part of the contract (spread into contract.ts): import with a preview,
// rows that are edited as revisions (undo/redo, per-row history, a version id a run pins),
// validation, statistics, the mask preview and export.
import { z } from 'zod';

export const DatasetSplit = z.enum(['train', 'validation', 'test']);
export type DatasetSplit = z.output<typeof DatasetSplit>;

/** chat: role/content turns; completion: [user prompt, assistant completion]; text: [one assistant message with the text]. */
export const DatasetRowKind = z.enum(['chat', 'completion', 'text']);

export const DatasetMessage = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
  /** Assistant turns only: false keeps the turn in the context but gives its tokens no loss. */
  train: z.boolean().default(true),
});
export type DatasetMessage = z.output<typeof DatasetMessage>;

/**
 * Why a row that parsed is dubious. Row-local ones are kept current on every edit; too_long needs a
 * tokenizer and the dataset-wide ones (duplicates, contamination) are computed by datasets.validate.
 */
export const RowProblem = z.enum([
  'no_assistant_turn',
  'empty_reply',
  'empty_message',
  'roles_out_of_order',
  'ends_with_user',
  'too_long',
  'duplicate',
  'near_duplicate',
  'contamination',
]);
export type RowProblem = z.output<typeof RowProblem>;

export const ImportFormat = z.enum(['auto', 'alpaca', 'sharegpt', 'openai', 'oasst', 'completions', 'text', 'csv', 'parquet']);
export const ExportFormat = z.enum(['openai', 'alpaca', 'sharegpt']);

/** CSV / Parquet: which column holds what. A conversation column holds JSON turns (openai or sharegpt shape). */
export const ColumnMapping = z.object({
  system: z.string().optional(),
  prompt: z.string().optional(),
  input: z.string().optional(),
  response: z.string().optional(),
  conversation: z.string().optional(),
  text: z.string().optional(),
});
export type ColumnMapping = z.output<typeof ColumnMapping>;

export const ImportOptions = z.object({
  path: z.string().min(1),
  format: ImportFormat.default('auto'),
  /** OpenAssistant trees: the top-ranked path per tree, or every path that ends on an assistant reply. */
  oasst: z.enum(['best', 'all']).default('best'),
  columns: ColumnMapping.optional(),
});

export const DatasetSummary = z.object({
  id: z.string(),
  name: z.string(),
  sourcePath: z.string().nullable(),
  format: z.string(),
  /** Live rows (deleted ones are not counted). */
  rowCount: z.number().int(),
  quarantinedCount: z.number().int(),
  /** Rows with at least one problem. */
  flaggedCount: z.number().int(),
  splitCounts: z.object({ train: z.number().int(), validation: z.number().int(), test: z.number().int(), none: z.number().int() }),
  /** The head revision; every edit makes a new one. */
  revision: z.number().int(),
  /** `${id}@${revision}`: what a training run pins. */
  versionId: z.string(),
  canUndo: z.boolean(),
  canRedo: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DatasetSummary = z.output<typeof DatasetSummary>;

export const DatasetRow = z.object({
  id: z.string(),
  datasetId: z.string(),
  /** 0-based position in the dataset's order (the CLI's --row N). */
  index: z.number().int(),
  kind: DatasetRowKind,
  messages: z.array(DatasetMessage),
  split: DatasetSplit.nullable(),
  tags: z.array(z.string()),
  problems: z.array(RowProblem),
  /** Tokens with the tokenizer of the last validation, or null. */
  tokens: z.number().int().nullable(),
  /** 1-based line in the imported file, when it came from one. */
  sourceLine: z.number().int().nullable(),
});
export type DatasetRow = z.output<typeof DatasetRow>;

/** A row as the table shows it: enough to draw a line, cheap to page through 100K rows. */
export const DatasetRowSummary = DatasetRow.omit({ messages: true }).extend({
  /** The first user (or only) message, cut to 240 characters. */
  preview: z.string(),
  /** The last assistant reply, cut to 240 characters. */
  reply: z.string(),
  turns: z.number().int(),
  hasSystem: z.boolean(),
});
export type DatasetRowSummary = z.output<typeof DatasetRowSummary>;

export const RowFilter = z.object({
  /** Substring of any message, case-insensitive. */
  text: z.string().optional(),
  minTurns: z.number().int().optional(),
  maxTurns: z.number().int().optional(),
  minTokens: z.number().int().optional(),
  maxTokens: z.number().int().optional(),
  tag: z.string().optional(),
  split: z.union([DatasetSplit, z.literal('none')]).optional(),
  problem: z.union([RowProblem, z.literal('any')]).optional(),
});
export type RowFilter = z.output<typeof RowFilter>;

export const QuarantinedRow = z.object({
  id: z.string(),
  datasetId: z.string(),
  line: z.number().int(),
  raw: z.string(),
  error: z.string(),
});
export type QuarantinedRow = z.output<typeof QuarantinedRow>;

export const Revision = z.object({
  revision: z.number().int(),
  description: z.string(),
  createdAt: z.string(),
  rowsAffected: z.number().int(),
  /** Revisions after the head (undone, redoable) are listed too. */
  undone: z.boolean(),
});

export const RowHistoryEntry = z.object({
  revision: z.number().int(),
  description: z.string(),
  createdAt: z.string(),
  /** null before: the row was created by this revision. */
  before: DatasetRow.pick({ messages: true, split: true, tags: true }).extend({ deleted: z.boolean() }).nullable(),
  after: DatasetRow.pick({ messages: true, split: true, tags: true }).extend({ deleted: z.boolean() }),
});

export const ValidationReport = z.object({
  datasetId: z.string(),
  revision: z.number().int(),
  /** Rows with each problem (a row may have several). */
  counts: z.record(RowProblem, z.number().int()),
  flaggedRows: z.number().int(),
  /** The model whose template and tokenizer counted tokens, or null when none was chosen. */
  modelId: z.string().nullable(),
  maxTokens: z.number().int().nullable(),
  /** Near-duplicate threshold used (Jaccard similarity of word 5-gram shingles, MinHash-estimated). */
  nearDuplicateThreshold: z.number(),
  durationMs: z.number(),
});
export type ValidationReport = z.output<typeof ValidationReport>;

const Histogram = z.object({
  /** Bucket edges: counts[i] is for [edges[i], edges[i+1]). */
  edges: z.array(z.number()),
  counts: z.object({ train: z.array(z.number().int()), validation: z.array(z.number().int()), test: z.array(z.number().int()), none: z.array(z.number().int()) }),
});

export const DatasetStats = z.object({
  rows: z.number().int(),
  /** null until a validation with a model counted tokens. */
  tokenLengths: Histogram.nullable(),
  turns: Histogram,
  /** Messages per role, per split. */
  roleMix: z.record(z.enum(['train', 'validation', 'test', 'none']), z.object({ system: z.number().int(), user: z.number().int(), assistant: z.number().int() })),
  totalTokens: z.number().int().nullable(),
});
export type DatasetStats = z.output<typeof DatasetStats>;

export const MaskMode = z.enum(['all', 'last', 'gatt']);

export const MaskPreview = z.object({
  modelId: z.string(),
  template: z.string(),
  mode: MaskMode,
  tokens: z.array(z.number().int()),
  pieces: z.array(z.string()),
  weights: z.array(z.number()),
});
export type MaskPreview = z.output<typeof MaskPreview>;

const DatasetId = z.object({ datasetId: z.string() });
const RowEdit = z.object({
  messages: z.array(DatasetMessage).optional(),
  split: DatasetSplit.nullable().optional(),
  tags: z.array(z.string()).optional(),
});
const BulkAction = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('delete') }),
  z.object({ kind: z.literal('tag'), tag: z.string().min(1), remove: z.boolean().default(false) }),
  z.object({ kind: z.literal('split'), split: DatasetSplit.nullable() }),
]);
const UndoResult = DatasetSummary;

export const datasetsContract = {
  'datasets.list': { request: z.object({}), response: z.array(DatasetSummary) },
  'datasets.get': { request: DatasetId, response: DatasetSummary },
  /** Reads the head of a file without storing anything: what was detected and how it would import. */
  'datasets.preview': {
    request: ImportOptions,
    response: z.object({
      format: z.string(),
      detected: z.boolean(),
      rows: z.array(DatasetRow.pick({ kind: true, messages: true, problems: true, sourceLine: true })),
      quarantined: z.array(QuarantinedRow.pick({ line: true, raw: true, error: true })),
      /** CSV / Parquet column names, so the user can map them. */
      columns: z.array(z.string()).nullable(),
      /** OpenAssistant files: conversations along top-ranked paths and along all paths. */
      oasstCounts: z.object({ best: z.number().int(), all: z.number().int() }).nullable(),
      fileBytes: z.number().int(),
    }),
  },
  /** Streams the file into a new dataset; progress arrives as datasets.importProgress events for `importId`. */
  'datasets.import': {
    request: ImportOptions.extend({ name: z.string().optional(), importId: z.string().optional() }),
    response: z.object({ dataset: DatasetSummary, rows: z.number().int(), quarantined: z.number().int(), flagged: z.number().int() }),
  },
  'datasets.rename': { request: z.object({ datasetId: z.string(), name: z.string().min(1) }), response: DatasetSummary },
  'datasets.delete': { request: DatasetId, response: z.object({ ok: z.literal(true) }) },

  'datasets.rows': {
    request: DatasetId.extend({ filter: RowFilter.default({}), offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(2000).default(200) }),
    response: z.object({ total: z.number().int(), rows: z.array(DatasetRowSummary) }),
  },
  'datasets.row': { request: z.object({ rowId: z.string() }), response: DatasetRow },
  'datasets.rowHistory': { request: z.object({ rowId: z.string() }), response: z.array(RowHistoryEntry) },
  'datasets.updateRow': { request: RowEdit.extend({ rowId: z.string() }), response: DatasetRow },
  'datasets.addRow': { request: RowEdit.extend({ datasetId: z.string(), messages: z.array(DatasetMessage).min(1) }), response: DatasetRow },
  /** Applies one action to the listed rows, or to every row the filter matches: one revision. */
  'datasets.bulk': {
    request: DatasetId.extend({ rowIds: z.array(z.string()).optional(), filter: RowFilter.optional(), action: BulkAction }),
    response: z.object({ affected: z.number().int(), dataset: DatasetSummary }),
  },
  /** Random split of every row (seeded): one revision. */
  'datasets.autoSplit': {
    request: DatasetId.extend({ validation: z.number().min(0).max(1), test: z.number().min(0).max(1).default(0), seed: z.number().int().default(0) }),
    response: DatasetSummary,
  },
  'datasets.undo': { request: DatasetId, response: UndoResult },
  'datasets.redo': { request: DatasetId, response: UndoResult },
  'datasets.revisions': { request: DatasetId, response: z.array(Revision) },

  'datasets.quarantine': { request: DatasetId, response: z.array(QuarantinedRow) },
  /** Parses the corrected text as a record of the dataset's format; on success it becomes a row (a revision). */
  'datasets.fixQuarantined': { request: z.object({ id: z.string(), raw: z.string() }), response: DatasetRow },
  'datasets.dropQuarantined': { request: z.object({ id: z.string() }), response: z.object({ ok: z.literal(true) }) },

  /** Recomputes every problem; with a model, also token counts and too_long against maxTokens (default: the model's context). */
  'datasets.validate': {
    request: DatasetId.extend({ modelId: z.string().optional(), maxTokens: z.number().int().min(1).optional(), nearDuplicateThreshold: z.number().min(0.5).max(1).default(0.8) }),
    response: ValidationReport,
  },
  'datasets.lastValidation': { request: DatasetId, response: ValidationReport.nullable() },
  'datasets.stats': { request: DatasetId, response: DatasetStats },
  /** One row as the trainer sees it with a model's chat template and tokenizer, per masking mode. */
  'datasets.maskPreview': {
    request: z.object({ rowId: z.string(), modelId: z.string(), mode: MaskMode }),
    response: MaskPreview,
  },
  /** Writes the rows (one split or all) to a file; the default path is in the data folder's exports/. */
  'datasets.export': {
    request: DatasetId.extend({ format: ExportFormat, split: z.union([DatasetSplit, z.literal('all')]).default('all'), path: z.string().optional() }),
    response: z.object({ path: z.string(), rows: z.number().int() }),
  },
} as const;

export const datasetsEvents = {
  'datasets.importProgress': z.object({
    importId: z.string(),
    rows: z.number().int(),
    quarantined: z.number().int(),
    bytesRead: z.number().int(),
    totalBytes: z.number().int(),
    done: z.boolean(),
  }),
  'datasets.changed': z.object({ datasetId: z.string(), revision: z.number().int() }),
} as const;
