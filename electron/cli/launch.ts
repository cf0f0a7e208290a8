// `npm start`: the Electron window where Electron's binary is installed, else browser mode.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function electronBinary(): string | null {
  if (process.env.PADDOCK_BROWSER === '1') return null;
  try {
    // In plain Node, the electron package exports the path of its binary (and throws if it was never fetched).
    const bin = require('electron') as unknown;
    return typeof bin === 'string' && fs.existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

const root = path.resolve(__dirname, '../../..');
const bin = electronBinary();
if (bin) {
  const child = spawn(bin, [root], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  process.stderr.write('[paddock] Electron is not available here: starting browser mode.\n');
  const child = spawn(process.execPath, [path.join(__dirname, 'main.js'), 'serve', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
}
