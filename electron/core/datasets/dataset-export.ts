// Export: rows written as OpenAI chat JSONL, Alpaca JSON Lines or ShareGPT JSONL, so that the file
// re-imports to the same rows (messages, roles, train flags). A reply that carries no loss
// (train=false) is written as OpenAI's "weight": 0 — on ShareGPT turns too, which Paddock reads back.
// Alpaca holds one exchange: rows that are not [system?, user, assistant] (multi-turn, a lone text,
// an untrained reply) are skipped and counted by reason, never half-written. Completion and text
// rows are written as their messages (they re-import as chat rows with the same messages).
// The file appears whole or not at all: written to a temp file beside it, then renamed.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DatasetMessage } from '../../shared/contract-datasets';
import type { RowKind } from './dataset-stream';

export type ExportFormatName = 'openai' | 'alpaca' | 'sharegpt';

export interface ExportRow {
  kind: RowKind;
  messages: DatasetMessage[];
}

export interface ExportResult {
  rows: number;
  /** Rows the format can't hold (Alpaca only), by reason. */
  skipped: Record<string, number>;
}

/** Writes the rows (atomically: temp file, then rename) and returns how many were written. */
export async function writeDatasetExport(rows: Iterable<ExportRow>, format: ExportFormatName, file: string): Promise<number> {
  return (await exportDataset(rows, format, file)).rows;
}

/** writeDatasetExport with the count of rows skipped (Alpaca) and why. */
export async function exportDataset(rows: Iterable<ExportRow> | AsyncIterable<ExportRow>, format: ExportFormatName, file: string): Promise<ExportResult> {
  const line = LINE[format];
  const result: ExportResult = { rows: 0, skipped: {} };
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const out = await fs.open(temp, 'w');
  try {
    let chunk: string[] = [];
    let size = 0;
    for await (const row of rows) {
      const written = line(row);
      if (typeof written !== 'string') {
        result.skipped[written.skip] = (result.skipped[written.skip] ?? 0) + 1;
        continue;
      }
      chunk.push(written);
      size += written.length;
      result.rows++;
      if (size > 1 << 20) {
        await out.write(chunk.join(''));
        chunk = [];
        size = 0;
      }
    }
    await out.write(chunk.join(''));
    await out.sync();
    await out.close();
    await fs.rename(temp, file);
  } catch (err) {
    await out.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw new Error(`${file}: export as ${format} failed (${(err as Error).message})`);
  }
  return result;
}

type Line = (row: ExportRow) => string | { skip: string };

const untrained = (m: DatasetMessage) => m.role === 'assistant' && m.train === false;

const openai: Line = (row) =>
  json({ messages: row.messages.map((m) => ({ role: m.role, content: m.content, ...(untrained(m) ? { weight: 0 } : {}) })) });

const SHAREGPT_FROM = { system: 'system', user: 'human', assistant: 'gpt' } as const;

const sharegpt: Line = (row) =>
  json({ conversations: row.messages.map((m) => ({ from: SHAREGPT_FROM[m.role], value: m.content, ...(untrained(m) ? { weight: 0 } : {}) })) });

const alpaca: Line = (row) => {
  const system = row.messages[0]?.role === 'system' ? row.messages[0] : undefined;
  const turns = system ? row.messages.slice(1) : row.messages;
  if (turns.length > 2 && turns.some((m) => m.role === 'system')) return { skip: 'a system message after the first turn' };
  if (turns.length > 2) return { skip: 'more than one exchange (multi-turn)' };
  const [user, reply] = turns;
  if (turns.length !== 2 || user.role !== 'user' || reply.role !== 'assistant') return { skip: 'not one user turn and one reply' };
  if (reply.train === false) return { skip: 'a reply with no loss (train=false)' };
  return json({ instruction: user.content, input: '', output: reply.content, ...(system ? { system: system.content } : {}) });
};

const LINE: Record<ExportFormatName, Line> = { openai, alpaca, sharegpt };

const json = (v: unknown) => `${JSON.stringify(v)}\n`;
