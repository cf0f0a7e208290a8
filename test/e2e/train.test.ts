// e2e: fine-tuning from the Train view in Chromium (browser mode, the real engine and SQLite file):
// configure a LoRA run on the bundled model and a small dataset, watch the loss chart fill, pause,
// resume, finish; compare base and fine-tuned side by side (and one blind rating); export a GGUF
// LoRA and a merged GGUF; restart the server and reload — the run, its curve and the files remain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchBrowser, noChromium, withServerAndBrowser } from '../support/browser';
import { enginePidOf, startServer, tempHome, waitFor, type RunningServer } from '../support/server';

const STEPS = 12;
/** Long enough that the kill lands mid-run even on a loaded machine. */
const KILL_STEPS = 24;

/** A few short chat rows in the OpenAI layout, written into the test's home. */
function writeDataset(dir: string): string {
  const stories = [
    ['Tell me about a cat.', 'The cat sat on the mat. It was happy and warm.'],
    ['What did Lily find?', 'Lily found a big red ball in the park. She played with it all day.'],
    ['Who is Tom?', 'Tom is a little boy. He likes to run and jump with his dog.'],
    ['Tell me a story.', 'Once upon a time there was a bird. The bird sang a happy song.'],
    ['What is the sun like?', 'The sun is hot and bright. It makes the flowers grow.'],
    ['Where did they go?', 'They went to the beach. They built a castle in the sand.'],
  ];
  const file = path.join(dir, 'tiny-chat.jsonl');
  const lines = stories.map(([q, a]) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] }));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function openApp(browser: Browser, url: string): Promise<Page & { errors: string[] }> {
  const page = (await browser.newPage({ viewport: { width: 1400, height: 1000 } })) as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(url);
  await page.getByTestId('nav-train').waitFor();
  return page;
}

const attr = (loc: Locator, name: string) => loc.getAttribute(name);
const chartPoints = async (page: Page) => Number((await attr(page.getByTestId('chart-loss'), 'data-points')) ?? 0);

async function waitStatus(detail: Locator, status: string, timeoutMs = 30_000) {
  await waitFor(async () => (await attr(detail, 'data-status')) === status || undefined, `run ${status}`, timeoutMs);
}

/** Exports in one format from the run's page and returns the written path shown. */
async function exportAs(page: Page, format: 'gguf-lora' | 'gguf-merged'): Promise<string> {
  await page.getByTestId(`export-${format}`).click();
  const result = page.locator(`[data-testid="export-result"][data-format="${format}"]`);
  await result.waitFor({ timeout: 30_000 });
  const ok = await attr(result, 'data-ok');
  assert.equal(ok, 'true', `export ${format}: ${await result.innerText()}`);
  return (await result.getByTestId('export-written-path').innerText()).trim();
}

test('train: a LoRA run from the form — live chart, pause, resume, compare, export, and it all survives a restart', { skip: noChromium, timeout: 150_000 }, async () => {
  const home = tempHome('paddock-train-e2e-');
  // Slow steps a little so that pause lands mid-run (the delay slows every generated token too,
  // so the compare replies below are kept short).
  const env = { PADDOCK_ENGINE_STEP_DELAY_MS: '200' };
  let server: RunningServer = await startServer({ home, env });
  const browser = await launchBrowser();
  const started = Date.now();
  try {
    const imported = await server.call<{ dataset: { id: string; name: string } }>('datasets.import', { path: writeDataset(home), name: 'tiny chat' });
    const datasetId = imported.dataset.id;
    // A validation split, so checkpoints carry a validation loss.
    await server.call('datasets.autoSplit', { datasetId, validation: 0.34, seed: 1 });
    const page = await openApp(browser, server.url);
    await page.getByTestId('nav-train').click();

    // Configure: the bundled model is preselected; our dataset, LoRA r4, a fixed number of steps.
    const form = page.getByTestId('run-form');
    await form.waitFor();
    await page.getByTestId('run-name').fill('e2e lora');
    await page.getByTestId('run-dataset').selectOption(datasetId);
    assert.match(await page.getByTestId('run-pinned').innerText(), new RegExp(`${datasetId}@\\d+`));
    await page.getByTestId('run-method-lora').check();
    await page.getByTestId('run-rank').fill('4');
    await page.getByTestId('run-alpha').fill('8');
    await page.getByTestId('run-length-mode').selectOption('steps');
    await page.getByTestId('run-steps').fill(String(STEPS));
    await page.getByTestId('run-save-every').fill('4');
    await page.getByTestId('run-lr').fill('0.001');
    // Beyond any machine's memory: the estimate says so with suggestions, and Start is refused
    // with the change that would make it fit; a suggestion is one click that patches the form.
    await page.getByTestId('run-max-seq').fill(String(1 << 24));
    await waitFor(async () => (await attr(page.getByTestId('memory-estimate'), 'data-fits')) === 'false' || undefined, "memory estimate: doesn't fit");
    const suggestions = page.getByTestId('memory-suggestion');
    assert.ok((await suggestions.count()) >= 1, 'suggestions offered');
    await page.getByTestId('run-start').click();
    await page.getByTestId('run-form-error').waitFor();
    assert.match(await page.getByTestId('run-form-error').innerText(), /memory|fit/i);
    assert.equal(await page.getByTestId('run-item').count(), 0, 'no run was created');
    const before = [await page.getByTestId('run-max-seq').inputValue(), await page.getByTestId('run-checkpointing').isChecked()];
    await suggestions.first().click();
    const after = [await page.getByTestId('run-max-seq').inputValue(), await page.getByTestId('run-checkpointing').isChecked()];
    assert.notDeepEqual(after, before, 'the suggestion changed the form');
    await page.getByTestId('run-max-seq').fill('256');
    if (await page.getByTestId('run-checkpointing').isChecked()) await page.getByTestId('run-checkpointing').uncheck();

    // The memory estimate follows the form and says the run fits.
    await waitFor(async () => (await attr(page.getByTestId('memory-estimate'), 'data-fits')) === 'true' || undefined, 'memory estimate: fits');
    assert.match(await page.getByTestId('memory-total').innerText(), /of .* on /);

    await page.getByTestId('run-start').click();
    const detail = page.getByTestId('run-detail');
    await detail.waitFor();
    const runId = (await attr(detail, 'data-run-id'))!;
    assert.ok(runId, 'the run page opened');

    // The loss chart gets points while it runs; pause lands mid-run.
    await waitFor(async () => (await chartPoints(page)) >= 2 || undefined, 'two points on the loss chart', 30_000);
    await page.getByTestId('run-pause').click();
    await waitStatus(detail, 'paused');
    const pausedAt = await chartPoints(page);
    assert.ok(pausedAt >= 2 && pausedAt < STEPS, `paused mid-run at ${pausedAt} of ${STEPS}`);
    assert.match(await page.locator(`[data-testid="run-item"][data-run-id="${runId}"]`).getAttribute('data-status') ?? '', /paused/);

    await page.getByTestId('run-resume').click();
    await waitStatus(detail, 'done', 60_000);
    await waitFor(async () => (await chartPoints(page)) === STEPS || undefined, `${STEPS} points on the loss chart`);
    assert.match(await page.getByTestId('run-step').innerText(), new RegExp(`${STEPS}/${STEPS}`));
    assert.ok((await page.getByTestId('run-checkpoint').count()) >= 1, 'checkpoints listed');
    assert.match(await page.getByTestId('run-log').innerText(), new RegExp(`step ${STEPS}`), 'the log reached the last step');
    const valLoss = Number(await page.getByTestId('checkpoint-val-loss').last().innerText());
    assert.ok(Number.isFinite(valLoss) && valLoss > 0, `the last checkpoint has a validation loss: ${valLoss}`);

    // Export a GGUF LoRA and a merged GGUF: the paths are shown and the files exist.
    const loraPath = await exportAs(page, 'gguf-lora');
    await page.getByTestId('export-type').selectOption('f16');
    const mergedPath = await exportAs(page, 'gguf-merged');
    for (const p of [loraPath, mergedPath]) assert.ok(fs.existsSync(p) && fs.statSync(p).size > 0, `exported file ${p}`);

    // Compare: base and fine-tuned answer the same prompt side by side.
    await page.getByTestId('nav-compare').click();
    await page.getByTestId('compare-run').selectOption(runId);
    await page.getByTestId('compare-temperature').fill('0');
    await page.getByTestId('compare-max-tokens').fill('8');
    await page.getByTestId('compare-prompt').fill('Tell me a story.');
    await page.getByTestId('compare-send').click();
    const first = page.getByTestId('compare-exchange').first();
    await waitFor(async () => (await attr(first, 'data-status')) === 'done' || undefined, 'both replies', 30_000);
    const base = await first.locator('[data-testid="compare-reply"][data-side="base"]').getByTestId('compare-reply-text').innerText();
    const tuned = await first.locator('[data-testid="compare-reply"][data-side="tuned"]').getByTestId('compare-reply-text').innerText();
    assert.ok(base.trim().length > 0 && tuned.trim().length > 0, `both sides replied: base=${JSON.stringify(base)} tuned=${JSON.stringify(tuned)}`);

    // Blind: sides are only A and B until rated; the rating is saved and the sides revealed.
    await page.getByTestId('compare-blind').check();
    await page.getByTestId('compare-prompt').fill('Who is Tom?');
    await page.getByTestId('compare-send').click();
    const blind = page.getByTestId('compare-exchange').nth(1);
    await waitFor(async () => (await attr(blind, 'data-status')) === 'done' || undefined, 'blind replies', 30_000);
    assert.equal(await blind.locator('[data-testid="compare-reply"][data-side]').count(), 0, 'sides hidden while blind');
    await blind.getByTestId('rate-a-better').click();
    await blind.getByTestId('compare-rated').waitFor();
    assert.match(await blind.getByTestId('compare-rated').innerText(), /A was (Base|Fine-tuned), B was (Base|Fine-tuned)/);
    await waitFor(async () => /^1 saved preference$/.test(await page.getByTestId('compare-pref-count').innerText()) || undefined, 'one saved preference');

    // Restart the server on the same home and reload: the run, its whole curve and the files are there.
    const port = String(new URL(server.url).port);
    await server.stop();
    server = await startServer({ home, token: server.token, env: { ...env, PADDOCK_PORT: port } });
    await page.goto(server.url);
    await page.getByTestId('nav-train').click();
    const item = page.locator(`[data-testid="run-item"][data-run-id="${runId}"]`);
    await item.waitFor();
    assert.equal(await attr(item, 'data-status'), 'done');
    await item.click();
    await waitFor(async () => (await chartPoints(page)) === STEPS || undefined, 'the stored curve after a restart');
    assert.ok((await page.getByTestId('run-checkpoint').count()) >= 1, 'checkpoints after a restart');
    for (const p of [loraPath, mergedPath]) assert.ok(fs.existsSync(p), `still there: ${p}`);
    assert.deepEqual(page.errors, []);
    console.log(`# train e2e: paused at step ${pausedAt}/${STEPS}; val loss ${valLoss}; base ${JSON.stringify(base.slice(0, 40))}, tuned ${JSON.stringify(tuned.slice(0, 40))}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('train: killing the engine mid-run shows the run interrupted with why; one click resumes it and the curve continues', { skip: noChromium, timeout: 90_000 }, async () => {
  const home = tempHome('paddock-train-kill-');
  await withServerAndBrowser({ home, env: { PADDOCK_ENGINE_STEP_DELAY_MS: '150' } }, async ({ server, browser }) => {
    const { dataset } = await server.call<{ dataset: { id: string } }>('datasets.import', { path: writeDataset(home) });
    const [model] = await server.call<{ id: string }[]>('models.list', {});
    const run = await server.call<{ id: string }>('runs.create', { modelId: model.id, datasetId: dataset.id, method: 'lora', rank: 4, steps: KILL_STEPS, saveEvery: 2, name: 'killed' });
    const page = await openApp(browser, server.url);
    await page.getByTestId('nav-train').click();
    await page.locator(`[data-testid="run-item"][data-run-id="${run.id}"]`).click();
    const detail = page.getByTestId('run-detail');
    await waitFor(async () => (await page.getByTestId('run-checkpoint').count()) >= 1 || undefined, 'a checkpoint', 30_000);
    await waitFor(async () => (await chartPoints(page)) >= 3 || undefined, 'three points');
    const pid = enginePidOf(server.proc.pid!);
    assert.ok(pid, 'engine process found');
    process.kill(pid!, 'SIGKILL');
    await waitStatus(detail, 'interrupted');
    assert.match(await page.getByTestId('run-error').innerText(), /Interrupted: .*\S/);
    const before = await chartPoints(page);
    assert.ok(before < KILL_STEPS, `killed mid-run at ${before} of ${KILL_STEPS}`);

    await page.getByTestId('run-resume').click();
    await waitStatus(detail, 'done', 60_000);
    // The stored curve has one point per step (the steps redone after the checkpoint replace the lost ones)...
    const steps = (await server.call<{ step: number }[]>('runs.metrics', { runId: run.id })).map((m) => m.step);
    assert.deepEqual(steps, Array.from({ length: KILL_STEPS }, (_, i) => i + 1));
    // ...and so has the chart, fed by the events of both engine processes.
    await waitFor(async () => (await chartPoints(page)) === KILL_STEPS || undefined, `the curve continues to step ${KILL_STEPS}`).catch(async (e) => {
      throw new Error(`${e.message}: the chart has ${await chartPoints(page)} points (killed at ${before})`);
    });
    assert.deepEqual(page.errors, []);
  });
});

test('train: Ghost Attention — preview instructions, synthesize a GAtt dataset, plot adherence per turn', { skip: noChromium, timeout: 90_000 }, async () => {
  const home = tempHome('paddock-gatt-e2e-');
  const file = path.join(home, 'dialogues.jsonl');
  const turn = (i: number) => [{ role: 'user', content: `Tell me more, part ${i}.` }, { role: 'assistant', content: `The dog ran and ran, part ${i}.` }];
  fs.writeFileSync(file, [0, 1, 2].map((d) => JSON.stringify({ messages: [...turn(d), ...turn(d + 1)] })).join('\n') + '\n');
  await withServerAndBrowser({ home }, async ({ server, browser }) => {
    const { dataset } = await server.call<{ dataset: { id: string } }>('datasets.import', { path: file, name: 'dialogues' });
    const page = await openApp(browser, server.url);
    await page.getByTestId('nav-train').click();
    await page.getByTestId('gatt-open').click();

    await page.getByTestId('gatt-kind-custom').check();
    await page.getByTestId('gatt-custom').fill('Always end with "Cheers!"');
    await page.getByTestId('gatt-preview').click();
    await waitFor(async () => (await page.getByTestId('gatt-instruction').count()) >= 1 || undefined, 'previewed instructions');

    const datasetsBefore = (await server.call<unknown[]>('datasets.list', {})).length;
    await page.getByTestId('gatt-dataset').selectOption(dataset.id);
    await page.getByTestId('gatt-max-rows').fill('2');
    await page.getByTestId('gatt-start').click();
    await page.locator('[data-testid="gatt-result"], [data-testid="gatt-error"]').first().waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('gatt-error').count(), 0, `synthesis failed: ${await page.getByTestId('gatt-synthesize').innerText()}`);
    assert.match(await page.getByTestId('gatt-result').innerText(), /New dataset with [1-9]\d* rows/);
    const datasetCount = (await server.call<unknown[]>('datasets.list', {})).length;
    assert.equal(datasetCount, datasetsBefore + 1, 'the GAtt dataset is stored beside its source');

    await page.getByTestId('adherence-turns').fill('2');
    await page.getByTestId('adherence-dialogues').fill('2');
    await page.getByTestId('adherence-start').click();
    await page.getByTestId('chart-adherence').waitFor({ timeout: 60_000 });
    assert.equal(Number(await page.getByTestId('chart-adherence').getAttribute('data-points')), 2, 'one point per turn');
    assert.deepEqual(page.errors, []);
  });
});
