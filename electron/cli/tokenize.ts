// `paddock tokenize --model F`: F is a model, a vocab-only GGUF or a tokenizer file; each stdin line
// is a JSON string, each stdout line the JSON array of its token ids (no BOS/EOS, no special tokens).
import { parseArgs } from 'node:util';
import readline from 'node:readline';
import { loadAddon } from '../engine/addon';
import { UsageError } from './fail';

export async function tokenizeCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { model: { type: 'string' } }, strict: true });
  if (!values.model) throw new UsageError('tokenize needs --model FILE');
  const tok = await loadAddon().loadTokenizer(values.model);
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineNo = 0;
  let out = '';
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    let text: unknown;
    try {
      text = JSON.parse(line);
    } catch {
      throw new UsageError(`stdin line ${lineNo} is not JSON (expected a JSON string)`);
    }
    if (typeof text !== 'string') throw new UsageError(`stdin line ${lineNo} is not a JSON string`);
    out += `[${Array.from(tok.encode(text, false, false)).join(',')}]\n`;
    if (out.length > 1 << 16) {
      process.stdout.write(out);
      out = '';
    }
  }
  if (out) process.stdout.write(out);
}
