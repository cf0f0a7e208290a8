// `npm start`: the Electron window where Electron's binary is installed, else browser mode.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Electron's binary if installed; Electron 45+ fetches it on first run, which we try once, quietly. */
function electronBinary(): string | null {
  if (process.env.PADDOCK_BROWSER === '1') return null;
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
  const installed = () => {
    const pathFile = path.join(pkgDir, 'path.txt');
    if (!fs.existsSync(pathFile)) return null;
    const bin = path.join(pkgDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
    return fs.existsSync(bin) ? bin : null;
  };
  if (installed()) return installed();
  process.stderr.write("[paddock] fetching Electron's binary (first run) ...\n");
  const r = spawnSync(process.execPath, [path.join(pkgDir, 'install.js')], { encoding: 'utf8', timeout: 180_000 });
  if (r.status === 0 && installed()) return installed();
  const why = `${r.stderr ?? ''}${r.error?.message ?? ''}`.split('\n').find((l) => /error|failed/i.test(l))?.trim() ?? `exit ${r.status}`;
  process.stderr.write(`[paddock] Electron's binary could not be fetched (${why}).\n`);
  return null;
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
