// `npm start` without Electron's binary: browser mode on 127.0.0.1, URL on stdout, UI served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../support/testdata';
import { tempHome } from '../support/server';

test('npm start falls back to browser mode and serves the UI when Electron is unavailable', async () => {
  const proc = spawn(process.execPath, [path.join(repoRoot, 'dist/electron/cli/launch.js')], {
    env: { ...process.env, PADDOCK_BROWSER: '1', PADDOCK_HOME: tempHome() },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('no URL within 30 s')), 30_000);
      proc.stdout!.on('data', (d) => {
        out += d;
        const m = out.match(/^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="app">|<script type="module"/);
  } finally {
    process.kill(-proc.pid!, 'SIGTERM');
  }
});
