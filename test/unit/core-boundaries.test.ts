import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : /\.(ts|js|mjs|cjs)$/.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

const importsElectron = (src: string) =>
  /(?:from\s+|require\(\s*|import\(\s*)['"]electron(?:\/[^'"]*)?['"]/.test(src);

test("no file under electron/core imports 'electron' (core is plain Node)", () => {
  const files = filesUnder(path.join(root, 'electron/core'));
  assert.ok(files.length > 10, `scanned ${files.length} files`);
  const offenders = files.filter((f) => importsElectron(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => path.relative(root, f)), []);
});

test('the import check itself catches every form of importing electron', () => {
  for (const src of [`import { app } from 'electron';`, `const e = require("electron")`, `await import('electron/main')`]) {
    assert.ok(importsElectron(src), src);
  }
  assert.ok(!importsElectron(`import x from 'electron-builder-thing/../x'; // electron`));
});

test('the native addon is loaded only by the engine side, never by core', () => {
  const files = filesUnder(path.join(root, 'electron/core'));
  const offenders = files.filter((f) => /from ['"][./]*\/engine\/addon['"]/.test(fs.readFileSync(f, 'utf8')) && /loadAddon/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});
