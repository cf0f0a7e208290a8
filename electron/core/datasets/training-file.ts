// A pinned dataset version written for the trainer: OpenAI chat JSONL with "weight": 0 on assistant
// turns that carry no loss. A dataset of only completions or only plain text keeps its own
// format ({"prompt","completion"} / {"text"}), so the trainer doesn't wrap it in a chat template.
// Written to a temp file and renamed: a reader never sees half a file.
import fs from 'node:fs';
import path from 'node:path';
import type { DatasetMessage } from '../../shared/contract-datasets';
import type { RowKind } from './dataset-stream';
import { rowToSample } from './row-sample';

export function trainingRecord(row: { kind: RowKind; messages: DatasetMessage[] }, uniformKind: RowKind | null): unknown {
  const sample = rowToSample(row);
  if (uniformKind === 'completion' && sample.kind === 'completion') return { prompt: sample.prompt, completion: sample.completion };
  if (uniformKind === 'text' && sample.kind === 'text') return { text: sample.text };
  return {
    messages: row.messages.map((m) => (m.role === 'assistant' && m.train === false ? { role: m.role, content: m.content, weight: 0 } : { role: m.role, content: m.content })),
  };
}

/** `rows` is read twice (the kinds first), so a dataset is never held in memory whole. Returns the row count. */
export async function writeTrainingJsonl(rows: () => Iterable<{ kind: RowKind; messages: DatasetMessage[] }>, file: string): Promise<number> {
  const kinds = new Set<RowKind>();
  for (const r of rows()) kinds.add(r.kind);
  const uniform = kinds.size === 1 ? [...kinds][0] : null;
  let n = 0;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const out = fs.createWriteStream(tmp);
  try {
    for (const r of rows()) {
      n++;
      if (!out.write(`${JSON.stringify(trainingRecord(r, uniform))}\n`)) await new Promise<void>((res) => out.once('drain', () => res()));
    }
    await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
    fs.renameSync(tmp, file);
    return n;
  } catch (err) {
    out.destroy();
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
