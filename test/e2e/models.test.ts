// e2e: the Models view lists the bundled model and refuses a bad file with a message naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { noChromium, withServerAndBrowser } from '../support/browser';

test('models: the bundled model is listed; a garbage file is refused with its name and nothing changes', { skip: noChromium }, async () => {
  await withServerAndBrowser({}, async ({ server, browser, home }) => {
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
  });
});

/** A GGUF header with no tensors and general.architecture = `arch`, written by hand. */
function ggufOfArchitecture(file: string, arch: string): void {
  const str = (s: string) => {
    const b = Buffer.from(s);
    const n = Buffer.alloc(8);
    n.writeBigUInt64LE(BigInt(b.length));
    return Buffer.concat([n, b]);
  };
  const u32 = (v: number) => Buffer.from(Uint32Array.of(v).buffer);
  const u64 = (v: number) => Buffer.from(BigUint64Array.of(BigInt(v)).buffer);
  const GGUF_STRING = 8;
  const kv = [['general.architecture', arch], ['general.name', `tiny ${arch}`]];
  const head = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(0), u64(kv.length), ...kv.flatMap(([k, v]) => [str(k), u32(GGUF_STRING), str(v)])]);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]));
}

test('models: details show architecture, size, context, chat template and memory; an unsupported architecture is refused', { skip: noChromium }, async () => {
  await withServerAndBrowser({}, async ({ server, browser, home }) => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByTestId('nav-models').click();
    await page.getByTestId('model-row').first().click();
    const details = page.getByTestId('model-details');
    await details.waitFor();
    const facts = await details.innerText();
    for (const want of [/Architecture\s+llama/, /Parameters\s+\S+/, /Tensor type\s+F32/, /Context length\s+512/]) assert.match(facts, want);
    assert.equal(await page.getByTestId('model-template-name').innerText(), 'ChatML (plain text)');
    await page.getByTestId('model-template-toggle').click();
    assert.match(await page.getByTestId('model-template-example').innerText(), /<\|im_start\|>user\nHello!<\|im_end\|>/);
    // KV cache: 2 x 5 layers x 512 positions x (4 kv heads x 8 dims) x 2 bytes = 327,680 B; it scales with the context.
    assert.equal(await page.getByTestId('model-memory-kv').innerText(), '328 KB');
    const total512 = await page.getByTestId('model-memory-total').innerText();
    await page.getByTestId('model-memory-context').fill('2048');
    assert.equal(await page.getByTestId('model-memory-kv').innerText(), '1.3 MB');
    assert.notEqual(await page.getByTestId('model-memory-total').innerText(), total512);

    const falcon = path.join(home, 'falcon.gguf');
    ggufOfArchitecture(falcon, 'falcon');
    await page.getByTestId('model-import-path').fill(falcon);
    await page.getByTestId('model-import-button').click();
    const err = page.getByTestId('model-import-error');
    await err.waitFor();
    const msg = await err.innerText();
    assert.ok(msg.includes(falcon), msg);
    assert.match(msg, /architecture 'falcon' is not supported/);
    assert.equal(await page.getByTestId('model-row').count(), 1);
  });
});
