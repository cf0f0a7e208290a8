// A dataset's rows: the conversations themselves (messages with a per-message train flag), their
// split, tags, problems and token count, in the dataset's order (ordinal). Paging stays fast deep
// into 100K rows: ids come from the covering index, and only the page's rows are read in full.
import type { DatasetMessage, DatasetRow, DatasetRowSummary, DatasetSplit, RowFilter, RowProblem } from '../../shared/contract-datasets';
import type { RowKind } from '../datasets/dataset-stream';
import { rowFilterSql } from '../datasets/row-filter';
import type { Db } from './connection';

export interface StoredRow {
  id: number;
  datasetId: string;
  ordinal: number;
  kind: RowKind;
  messages: DatasetMessage[];
  split: DatasetSplit | null;
  tags: string[];
  problems: RowProblem[];
  tokens: number | null;
  sourceLine: number | null;
  deleted: boolean;
  createdRevision: number;
}

export interface NewRow {
  kind: RowKind;
  messages: DatasetMessage[];
  split?: DatasetSplit | null;
  tags?: string[];
  problems: RowProblem[];
  sourceLine: number | null;
  ordinal: number;
  deleted?: boolean;
}

interface RowRecord {
  id: number;
  dataset_id: string;
  ordinal: number;
  kind: RowKind;
  split: DatasetSplit | null;
  turns: number;
  tokens: number | null;
  problems: string;
  source_line: number | null;
  deleted: number;
  created_revision: number;
  messages_json: string;
}

export const encodeProblems = (p: readonly string[]): string => (p.length ? `,${[...new Set(p)].join(',')},` : '');
export const decodeProblems = (s: string): RowProblem[] => (s ? (s.slice(1, -1).split(',') as RowProblem[]) : []);
/** Turns as the editor counts them: every message but the system prompt. */
export const turnCount = (messages: DatasetMessage[]): number => messages.filter((m) => m.role !== 'system').length;

const cut = (s: string) => (s.length > 240 ? `${s.slice(0, 239)}…` : s);

export class DatasetRowsRepo {
  private readonly insertStmt;
  private readonly tagStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO dataset_rows (dataset_id, ordinal, kind, split, turns, tokens, problems, source_line, deleted, created_revision, messages_json)
       VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
    );
    this.tagStmt = db.prepare('INSERT OR IGNORE INTO dataset_row_tags (row_id, dataset_id, tag) VALUES (?, ?, ?)');
  }

  /** Inserts rows created by `revision`; the caller holds the transaction. Returns the new ids. */
  insert(datasetId: string, revision: number, rows: NewRow[]): number[] {
    const ids: number[] = [];
    for (const r of rows) {
      const info = this.insertStmt.run(
        datasetId,
        r.ordinal,
        r.kind,
        r.split ?? null,
        turnCount(r.messages),
        encodeProblems(r.problems),
        r.sourceLine,
        r.deleted ? 1 : 0,
        revision,
        JSON.stringify(r.messages),
      );
      const id = Number(info.lastInsertRowid);
      for (const tag of r.tags ?? []) this.tagStmt.run(id, datasetId, tag);
      ids.push(id);
    }
    return ids;
  }

  get(id: number): StoredRow | undefined {
    const rec = this.db.prepare('SELECT * FROM dataset_rows WHERE id = ?').get(id) as RowRecord | undefined;
    return rec && this.fromRecord(rec, this.tagsOf([id]).get(id) ?? []);
  }

  /** Rows by id (any order in, the given order out; missing ids are left out). */
  getMany(ids: number[]): StoredRow[] {
    const out = new Map<number, StoredRow>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const recs = this.db.prepare(`SELECT * FROM dataset_rows WHERE id IN (${chunk.map(() => '?').join(',')})`).all(...chunk) as RowRecord[];
      const tags = this.tagsOf(chunk);
      for (const rec of recs) out.set(rec.id, this.fromRecord(rec, tags.get(rec.id) ?? []));
    }
    return ids.map((id) => out.get(id)).filter((r): r is StoredRow => !!r);
  }

  /** 0-based position among the dataset's live rows. */
  indexOf(row: Pick<StoredRow, 'datasetId' | 'ordinal' | 'id'>): number {
    const r = this.db
      .prepare('SELECT COUNT(*) AS n FROM dataset_rows WHERE dataset_id = ? AND deleted = 0 AND (ordinal < ? OR (ordinal = ? AND id < ?))')
      .get(row.datasetId, row.ordinal, row.ordinal, row.id) as { n: number };
    return r.n;
  }

  toContract(row: StoredRow, index: number): DatasetRow {
    return {
      id: String(row.id),
      datasetId: row.datasetId,
      index,
      kind: row.kind,
      messages: row.messages,
      split: row.split,
      tags: row.tags,
      problems: row.problems,
      tokens: row.tokens,
      sourceLine: row.sourceLine,
    };
  }

  /** One page of the live rows matching the filter, in dataset order, with the filter's total. */
  page(datasetId: string, filter: RowFilter, offset: number, limit: number): { total: number; rows: DatasetRowSummary[] } {
    const f = rowFilterSql(filter);
    const base = `FROM dataset_rows r WHERE r.dataset_id = ? AND r.deleted = 0 AND ${f.where}`;
    const total = (this.db.prepare(`SELECT COUNT(*) AS n ${base}`).get(datasetId, ...f.params) as { n: number }).n;
    const ids = (this.db.prepare(`SELECT r.id ${base} ORDER BY r.ordinal, r.id LIMIT ? OFFSET ?`).all(datasetId, ...f.params, limit, offset) as { id: number }[]).map(
      (x) => x.id,
    );
    const rows = this.getMany(ids);
    let index: (r: StoredRow, i: number) => number = (_r, i) => offset + i;
    if (!f.empty && rows.length) {
      // Positions in the whole dataset, not in the filtered list: counts over the covering index
      // between consecutive page rows (one pass up to the page's last row, nothing materialized).
      const before = this.db.prepare(
        'SELECT COUNT(*) AS n FROM dataset_rows WHERE dataset_id = ? AND deleted = 0 AND ordinal <= ? AND NOT (ordinal = ? AND id >= ?)',
      );
      const between = this.db.prepare(
        'SELECT COUNT(*) AS n FROM dataset_rows WHERE dataset_id = ? AND deleted = 0 AND ordinal >= ? AND ordinal <= ? AND NOT (ordinal = ? AND id <= ?) AND NOT (ordinal = ? AND id >= ?)',
      );
      const positions = new Map<number, number>();
      let prev: StoredRow | undefined;
      for (const r of rows) {
        const n = prev
          ? positions.get(prev.id)! + 1 + (between.get(datasetId, prev.ordinal, r.ordinal, prev.ordinal, prev.id, r.ordinal, r.id) as { n: number }).n
          : (before.get(datasetId, r.ordinal, r.ordinal, r.id) as { n: number }).n;
        positions.set(r.id, n);
        prev = r;
      }
      index = (r) => positions.get(r.id) ?? -1;
    }
    return { total, rows: rows.map((r, i) => summarize(this.toContract(r, index(r, i)))) };
  }

  /** Ids of the live rows matching a filter, in order (bulk actions). */
  matchingIds(datasetId: string, filter: RowFilter): number[] {
    const f = rowFilterSql(filter);
    return (
      this.db.prepare(`SELECT r.id FROM dataset_rows r WHERE r.dataset_id = ? AND r.deleted = 0 AND ${f.where} ORDER BY r.ordinal, r.id`).all(datasetId, ...f.params) as {
        id: number;
      }[]
    ).map((x) => x.id);
  }

  /**
   * Every live row in order, read 1,000 at a time (export, validation, stats): memory stays bounded,
   * and no statement is left open between chunks, so other calls can use the connection meanwhile.
   */
  *iterateLive(datasetId: string, opts: { withDeleted?: boolean } = {}): Generator<StoredRow> {
    const stmt = this.db.prepare(
      `SELECT * FROM dataset_rows WHERE dataset_id = ? ${opts.withDeleted ? '' : 'AND deleted = 0'} AND (ordinal, id) > (?, ?) ORDER BY ordinal, id LIMIT 1000`,
    );
    let after: [number, number] = [-Infinity, -1];
    for (;;) {
      const recs = stmt.all(datasetId, ...after) as RowRecord[];
      if (!recs.length) return;
      const tags = this.tagsOf(recs.map((r) => r.id));
      for (const rec of recs) yield this.fromRecord(rec, tags.get(rec.id) ?? []);
      const last = recs[recs.length - 1];
      after = [last.ordinal, last.id];
    }
  }

  liveIds(datasetId: string): number[] {
    return (this.db.prepare('SELECT id FROM dataset_rows WHERE dataset_id = ? AND deleted = 0 ORDER BY ordinal, id').all(datasetId) as { id: number }[]).map((x) => x.id);
  }

  /** Writes a row's editable state; a change of messages recounts turns and clears the token count. */
  write(
    id: number,
    datasetId: string,
    state: { messages?: DatasetMessage[]; split: DatasetSplit | null; tags: string[]; deleted: boolean; problems?: RowProblem[] },
  ): void {
    if (state.messages) {
      this.db.prepare('UPDATE dataset_rows SET messages_json = ?, turns = ?, tokens = NULL WHERE id = ?').run(JSON.stringify(state.messages), turnCount(state.messages), id);
    }
    if (state.problems) this.db.prepare('UPDATE dataset_rows SET problems = ? WHERE id = ?').run(encodeProblems(state.problems), id);
    this.db.prepare('UPDATE dataset_rows SET split = ?, deleted = ? WHERE id = ?').run(state.split, state.deleted ? 1 : 0, id);
    this.db.prepare('DELETE FROM dataset_row_tags WHERE row_id = ?').run(id);
    for (const tag of state.tags) this.tagStmt.run(id, datasetId, tag);
  }

  /** Validation's results (problems and token counts) for many rows; the caller holds the transaction. */
  writeValidation(results: Iterable<{ id: number; problems: RowProblem[]; tokens: number | null }>): void {
    const stmt = this.db.prepare('UPDATE dataset_rows SET problems = ?, tokens = ? WHERE id = ?');
    for (const r of results) stmt.run(encodeProblems(r.problems), r.tokens, r.id);
  }

  /** An ordinal that places a row where its source line belongs (a fixed quarantine line). */
  ordinalForLine(datasetId: string, line: number): number {
    const before = this.db.prepare('SELECT MAX(ordinal) AS o FROM dataset_rows WHERE dataset_id = ? AND source_line < ?').get(datasetId, line) as { o: number | null };
    const after = this.db.prepare('SELECT MIN(ordinal) AS o FROM dataset_rows WHERE dataset_id = ? AND source_line > ?').get(datasetId, line) as { o: number | null };
    if (before.o !== null && after.o !== null) return (before.o + after.o) / 2;
    if (before.o !== null) return this.nextOrdinal(datasetId);
    if (after.o !== null) return after.o - 1;
    return this.nextOrdinal(datasetId);
  }

  nextOrdinal(datasetId: string): number {
    const r = this.db.prepare('SELECT MAX(ordinal) AS o FROM dataset_rows WHERE dataset_id = ?').get(datasetId) as { o: number | null };
    return r.o === null ? 0 : Math.floor(r.o) + 1;
  }

  /** Rows created by revisions that no longer exist (an undone add whose redo was dropped). */
  removeCreatedAfter(datasetId: string, revision: number): void {
    this.db.prepare('DELETE FROM dataset_rows WHERE dataset_id = ? AND created_revision > ?').run(datasetId, revision);
  }

  private tagsOf(ids: number[]): Map<number, string[]> {
    const out = new Map<number, string[]>();
    if (!ids.length) return out;
    const recs = this.db.prepare(`SELECT row_id, tag FROM dataset_row_tags WHERE row_id IN (${ids.map(() => '?').join(',')}) ORDER BY tag`).all(...ids) as {
      row_id: number;
      tag: string;
    }[];
    for (const t of recs) {
      const list = out.get(t.row_id);
      if (list) list.push(t.tag);
      else out.set(t.row_id, [t.tag]);
    }
    return out;
  }

  private fromRecord(rec: RowRecord, tags: string[]): StoredRow {
    return {
      id: rec.id,
      datasetId: rec.dataset_id,
      ordinal: rec.ordinal,
      kind: rec.kind,
      messages: JSON.parse(rec.messages_json) as DatasetMessage[],
      split: rec.split,
      tags,
      problems: decodeProblems(rec.problems),
      tokens: rec.tokens,
      sourceLine: rec.source_line,
      deleted: rec.deleted === 1,
      createdRevision: rec.created_revision,
    };
  }
}

export function summarize(row: DatasetRow): DatasetRowSummary {
  const { messages, ...rest } = row;
  const first = messages.find((m) => m.role === 'user') ?? messages[0];
  const reply = [...messages].reverse().find((m) => m.role === 'assistant');
  return {
    ...rest,
    preview: cut(first?.content ?? ''),
    reply: cut(reply?.content ?? ''),
    turns: turnCount(messages),
    hasSystem: messages.some((m) => m.role === 'system'),
  };
}
