// Synthetic models of real shapes (`paddock synth`), cached in test/bench/models (git-ignored) for
// the bench and the parity test. A cached file written by an older synth (before real Llama 2/3
// vocabularies: no paddock.synthetic.version 2) is written again.
import fs from 'node:fs';
import path from 'node:path';
import { SyntheticShape, SyntheticType, loadAddon } from '../../electron/engine/addon';

export const modelsDir = path.join(__dirname, 'models');
const vocabDir = path.resolve(__dirname, '../../resources/tokenizers');
const kVersion = 2;

export async function ensureSynthModel(shape: SyntheticShape, type: SyntheticType, seed = 1): Promise<string> {
  const file = path.join(modelsDir, `${shape}-${type}.gguf`);
  const addon = loadAddon();
  if (fs.existsSync(file)) {
    const info = await addon.readModelInfo(file).catch(() => undefined);
    if (Number(info?.metadata['paddock.synthetic.version'] ?? 0) >= kVersion) return file;
  }
  fs.mkdirSync(modelsDir, { recursive: true });
  process.stderr.write(`[synth] writing ${file} ...\n`);
  const options = { shape, type, seed, vocabDir };
  await addon.writeSyntheticGguf(file, options);
  return file;
}
