// `paddock bundle-model`: writes resources/models/stories260K.gguf from the llama2.c original in
// ../shared/testdata with Paddock's own GGUF writer (how the bundled model was made; re-runnable).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadAddon } from '../engine/addon';
import { bundledModelFile } from '../core/paths';

export async function bundleModelCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { testdata: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  const testdata = values.testdata ?? process.env.PADDOCK_TESTDATA ?? path.resolve(__dirname, '../../../../shared/testdata');
  const dir = path.join(testdata, 'models', 'stories260K');
  const addon = loadAddon();
  const model = await addon.loadModel(path.join(dir, 'stories260K.bin'), { tokenizerPath: path.join(dir, 'tok512.bin') });
  const out = values.out ?? bundledModelFile();
  await addon.writeGguf(model, out, { type: 'f32' });
  model.dispose();
  process.stdout.write(`${out}\n`);
}
