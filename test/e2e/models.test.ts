// e2e: the Models view lists the bundled model and refuses a bad file with a message naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, noChromium } from '../support/browser';
import { startServer, tempHome } from '../support/server';

test('models: the bundled model is listed; a garbage file is refused with its name and nothing changes', { skip: noChromium }, async () => {
  const home = tempHome();
  const server = await startServer({ home });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByTestId('nav-models').click();
    const rows = page.getByTestId('model-row');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /stories260K/i);
    const bad = path.join(home, 'broken.gguf');
    fs.writeFileSync(bad, Buffer.alloc(4096, 7));
    await page.getByTestId('model-import-path').fill(bad);
    await page.getByTestId('model-import-button').click();
    const err = page.getByTestId('model-import-error');
    await err.waitFor();
    const msg = await err.innerText();
    assert.ok(msg.includes(bad), msg);
    assert.equal(await rows.count(), 1);
  } finally {
    await browser.close();
    await server.stop();
  }
});
