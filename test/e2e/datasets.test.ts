// e2e: the Datasets workbench in Chromium (browser mode, real server, real SQLite file):
// import Alpaca through the dialog with its preview, edit a turn, undo, redo, filter by a
// validation problem, split 90/10, export OpenAI JSONL, reload (everything is still there), and
// re-import the exported file to the same rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { noChromium, withServerAndBrowser } from '../support/browser';
import { tempHome, waitFor } from '../support/server';
import { testdataDir } from '../support/testdata';

const alpaca = path.join(testdataDir, 'datasets/alpaca/alpaca_5000.json');
const oasstTree = path.join(testdataDir, 'datasets/oasst/en_100_tree.jsonl');
const skip = noChromium ?? (fs.existsSync(alpaca) ? undefined : `no Alpaca test data at ${alpaca}`);

interface RowSummary {
  id: string;
  index: number;
  preview: string;
  reply: string;
  turns: number;
  hasSystem: boolean;
  problems: string[];
}
interface Summary {
  id: string;
  rowCount: number;
  splitCounts: Record<string, number>;
}

async function openDatasets(page: Page, url: string, errors: string[]) {
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.getByTestId('nav-datasets').click();
  await page.getByTestId('dataset-import-open').waitFor();
}

const text = (page: Page, testId: string) => page.getByTestId(testId).innerText();
const until = (what: string, fn: () => Promise<boolean>, ms = 20_000) => waitFor(async () => (await fn()) || undefined, what, ms);

test('datasets: import Alpaca with a preview, edit/undo/redo, filter, split, export, reload, re-import', { skip }, async () => {
  await withServerAndBrowser({}, async ({ server, browser }) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    await openDatasets(page, server.url, errors);

    // Import: preview first (rows rendered as conversations), then the import itself.
    await page.getByTestId('dataset-import-open').click();
    await page.getByTestId('import-path').fill(alpaca);
    await page.getByTestId('import-preview-button').click();
    await page.getByTestId('import-preview-row').first().waitFor();
    assert.equal(await text(page, 'import-preview-format'), 'alpaca');
    assert.ok((await page.getByTestId('import-preview-row').count()) > 0);
    assert.match(await page.getByTestId('import-preview-row').first().innerText(), /user[\s\S]*assistant/i);
    await page.getByTestId('import-submit').click();
    await page.getByTestId('import-dialog').waitFor({ state: 'detached', timeout: 60_000 });
    await until('5,000 rows shown', async () => (await text(page, 'dataset-head-rows')) === '5,000 rows');
    assert.equal(await text(page, 'dataset-head-flagged'), '2 flagged');
    const [dataset] = await server.call<Summary[]>('datasets.list');
    assert.equal(dataset.rowCount, 5000);

    // Edit the first row's reply in the editor (opened with Enter) and save.
    const first = page.locator('[data-testid="dataset-row"][data-index="0"]');
    await first.getByTestId('row-reply').waitFor();
    const oldReply = (await server.call<{ rows: RowSummary[] }>('datasets.rows', { datasetId: dataset.id, limit: 1 })).rows[0];
    await first.click();
    await page.keyboard.press('Enter');
    const reply = page.locator('[data-testid="editor-turn"][data-role="assistant"] [data-testid="turn-content"]').last();
    await reply.waitFor();
    const before = await reply.inputValue();
    const edited = 'EDITED by the e2e test: a better answer.';
    await reply.fill(edited);
    await page.getByTestId('editor-save').click();
    await until('saved edit in the table', async () => (await first.getByTestId('row-reply').innerText()) === edited);
    const stored = await server.call<{ messages: { role: string; content: string }[] }>('datasets.row', { rowId: oldReply.id });
    assert.equal(stored.messages.at(-1)!.content, edited);

    // Undo with the keyboard (focus on the table, not in a field): the old text is back.
    await first.click();
    await page.keyboard.press('Control+z');
    await until('undo restores the old reply', async () => (await reply.inputValue()) === before);
    // The table refreshes its page after the editor (one more round trip): wait for it too.
    await until('the table shows the old reply', async () => (await first.getByTestId('row-reply').innerText()) === oldReply.reply);
    // Redo with the button, whose name says what it re-applies.
    assert.ok(await page.getByTestId('redo-button').isEnabled());
    await page.getByTestId('redo-button').click();
    await until('redo brings the edit back', async () => (await reply.inputValue()) === edited);
    await page.getByTestId('editor-close').click();

    // Validate (no model) and filter by a problem: exactly the two empty replies.
    await page.getByTestId('dataset-tab-validate').click();
    await page.getByTestId('validate-run').click();
    const emptyCount = page.locator('[data-testid="validate-count"][data-problem="empty_reply"] .n');
    await until('validation counts', async () => (await emptyCount.count()) > 0 && (await emptyCount.innerText()) === '2');
    await page.locator('[data-testid="validate-show"][data-problem="empty_reply"]').click();
    await until('filtered to 2 rows', async () => (await text(page, 'filter-total')) === '2 matching');
    await until('2 rows rendered', async () => (await page.getByTestId('dataset-row').count()) === 2);
    for (const p of await page.getByTestId('row-problems').allInnerTexts()) assert.match(p, /empty reply/);
    const chip = page.locator('[data-testid="problem-chip"][data-problem="empty_reply"]');
    assert.equal(await chip.getAttribute('aria-pressed'), 'true');
    await chip.click(); // the chip toggles the filter off again
    await until('filter cleared', async () => (await text(page, 'filter-total')) === '5,000 rows');

    // Auto split 90/10.
    await page.getByTestId('autosplit-open').click();
    await page.getByTestId('autosplit-validation').fill('10');
    await page.getByTestId('autosplit-test').fill('0');
    await page.getByTestId('autosplit-submit').click();
    await page.getByTestId('autosplit-dialog').waitFor({ state: 'detached' });
    const splitValue = (s: string) => page.locator(`[data-testid="split-count"][data-split="${s}"] [data-testid="split-count-value"]`);
    await page.getByTestId('dataset-tab-stats').click();
    await until('split counts 4,500 / 500', async () => (await splitValue('train').innerText()) === '4,500' && (await splitValue('validation').innerText()) === '500');
    await page.getByTestId('chart-turns').waitFor();

    // Export OpenAI JSONL to the default place; the written path is shown.
    await page.getByTestId('export-open').click();
    await page.getByTestId('export-format').selectOption('openai');
    await page.getByTestId('export-split').selectOption('all');
    await page.getByTestId('export-submit').click();
    const exported = (await page.getByTestId('export-result-path').innerText({ timeout: 30_000 })).trim();
    assert.ok(fs.existsSync(exported), exported);
    assert.equal(fs.readFileSync(exported, 'utf8').trim().split('\n').length, 5000);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    // Reload: the dataset, the edit and the split are all still there.
    await page.reload();
    await page.getByTestId('dataset-head-rows').waitFor();
    assert.equal(await text(page, 'dataset-head-rows'), '5,000 rows');
    await page.getByTestId('dataset-tab-rows').click();
    await until('edit after reload', async () => (await page.locator('[data-testid="dataset-row"][data-index="0"] [data-testid="row-reply"]').innerText()) === edited);
    await page.getByTestId('dataset-tab-stats').click();
    await until('split after reload', async () => (await splitValue('train').innerText()) === '4,500' && (await splitValue('validation').innerText()) === '500');

    // The exported file re-imports to the same rows (every row's text, in order).
    const again = await server.call<{ dataset: Summary; rows: number }>('datasets.import', { path: exported });
    assert.equal(again.rows, 5000);
    const all = async (id: string) => {
      const rows: RowSummary[] = [];
      for (let offset = 0; offset < 5000; offset += 2000) {
        rows.push(...(await server.call<{ rows: RowSummary[] }>('datasets.rows', { datasetId: id, offset, limit: 2000 })).rows);
      }
      return rows.map((r) => ({ preview: r.preview, reply: r.reply, turns: r.turns, hasSystem: r.hasSystem }));
    };
    const [a, b] = [await all(dataset.id), await all(again.dataset.id)];
    assert.equal(b.length, 5000);
    assert.deepEqual(b, a);
    assert.equal(b[0].reply, edited);
    assert.deepEqual(errors, []);
  });
});

test('datasets: OASST paths choice, CSV column mapping, quarantine fix, validation with a model, stats and mask preview', { skip }, async () => {
  // 200 OpenAI-chat rows with broken JSON on line 137.
  const dir = tempHome('paddock-bad-');
  const bad = path.join(dir, 'broken.jsonl');
  const good = (i: number) => JSON.stringify({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `Hello ${i}` }, { role: 'assistant', content: `Hi there ${i}` }] });
  const lines = Array.from({ length: 200 }, (_, i) => (i === 136 ? '{"messages": [ broken' : good(i)));
  fs.writeFileSync(bad, lines.join('\n') + '\n');
  const csv = path.join(dir, 'qa.csv');
  fs.writeFileSync(csv, 'q,a\n"What is 1+1?",2\n"Capital of France?",Paris\n');
  await withServerAndBrowser({}, async ({ server, browser }) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    await openDatasets(page, server.url, errors);

    // OpenAssistant: both counts are shown; "every path" is what gets imported when chosen.
    await page.getByTestId('dataset-import-open').click();
    await page.getByTestId('import-path').fill(oasstTree);
    await page.getByTestId('import-preview-button').click();
    await page.getByTestId('import-oasst').waitFor();
    assert.equal(await text(page, 'import-oasst-best-count'), '100');
    const allPaths = Number((await text(page, 'import-oasst-all-count')).replace(/,/g, ''));
    assert.ok(allPaths > 100, `all paths: ${allPaths}`);
    await page.getByTestId('import-oasst-all').check();
    await page.getByTestId('import-submit').click();
    await page.getByTestId('import-dialog').waitFor({ state: 'detached', timeout: 30_000 });
    await until('all-paths rows', async () => (await text(page, 'dataset-head-rows')) === `${allPaths.toLocaleString('en-US')} rows`);

    // CSV with columns the dialog can't guess: map them, the preview follows, the import uses them.
    await page.getByTestId('dataset-import-open').click();
    await page.getByTestId('import-path').fill(csv);
    await page.getByTestId('import-preview-button').click();
    await page.getByTestId('import-map-hint').waitFor();
    await page.getByTestId('import-column-prompt').selectOption('q');
    await page.getByTestId('import-column-response').selectOption('a');
    await until('mapped preview rows', async () => (await page.getByTestId('import-preview-row').count()) === 2);
    await page.getByTestId('import-submit').click();
    await page.getByTestId('import-dialog').waitFor({ state: 'detached', timeout: 30_000 });
    await until('2 CSV rows', async () => (await text(page, 'dataset-head-rows')) === '2 rows');
    const csvReply = page.locator('[data-testid="dataset-row"][data-index="1"] [data-testid="row-reply"]');
    await until('the CSV rows in the table', async () => (await csvReply.count()) === 1 && (await csvReply.innerText()) === 'Paris');

    // A malformed file: the good rows import, line 137 waits in quarantine with the parser's message.
    await page.getByTestId('dataset-import-open').click();
    await page.getByTestId('import-path').fill(bad);
    await page.getByTestId('import-preview-button').click();
    await page.getByTestId('import-preview-row').first().waitFor();
    await page.getByTestId('import-submit').click();
    await page.getByTestId('import-dialog').waitFor({ state: 'detached', timeout: 30_000 });
    await until('199 rows', async () => (await text(page, 'dataset-head-rows')) === '199 rows');
    await page.getByTestId('dataset-tab-quarantine').click();
    const item = page.getByTestId('quarantine-item');
    await item.waitFor();
    assert.equal(await item.count(), 1);
    assert.equal(await text(page, 'quarantine-line'), 'line 137');
    assert.match(await text(page, 'quarantine-error'), /JSON|token|Unexpected/i);
    // Still broken: the parser says why and nothing changes; corrected: it becomes row 200.
    await page.getByTestId('quarantine-fix').click();
    await page.getByTestId('quarantine-problem').waitFor();
    assert.equal(await item.count(), 1);
    await page.getByTestId('quarantine-raw').fill(good(136));
    await page.getByTestId('quarantine-fix').click();
    await until('fixed line becomes a row', async () => (await item.count()) === 0 && (await text(page, 'dataset-head-rows')) === '200 rows');

    // Validation with the bundled model: token counts, too_long against a small maximum.
    await page.getByTestId('dataset-tab-validate').click();
    await page.getByTestId('validate-model').selectOption({ index: 1 });
    await page.getByTestId('validate-max-tokens').fill('20');
    await page.getByTestId('validate-run').click();
    const tooLong = page.locator('[data-testid="validate-count"][data-problem="too_long"] .n');
    await until('too_long counted', async () => (await page.getByTestId('validate-summary').count()) > 0 && (await tooLong.innerText()) === '200', 30_000);
    await page.getByTestId('dataset-tab-stats').click();
    await until('token histogram drawn', async () => Number(await page.getByTestId('chart-token-lengths').getAttribute('data-points')) > 0);

    // Mask preview of the first row: every token a chip, prompt tokens grey, the reply trained.
    await page.getByTestId('dataset-tab-rows').click();
    await page.locator('[data-testid="dataset-row"][data-index="0"]').click();
    await page.getByTestId('dataset-tab-mask').click();
    await page.getByTestId('mask-token').first().waitFor({ timeout: 30_000 });
    const weights = (await page.getByTestId('mask-token').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-weight')))));
    assert.ok(weights.some((w) => w === 0) && weights.some((w) => w > 0), 'masked and trained tokens');
    assert.equal(Number((await text(page, 'mask-trained')).replace(/,/g, '')), weights.filter((w) => w > 0).length);
    assert.ok((await page.getByTestId('mask-token').allInnerTexts()).includes('↵'), 'newlines shown');
    await page.getByTestId('mask-mode-gatt').check();
    await until('GAtt mode shown', async () => /template/.test(await text(page, 'mask-summary')) && (await page.getByTestId('mask-token').count()) > 0);
    assert.deepEqual(errors, []);
  });
  fs.rmSync(dir, { recursive: true, force: true });
});
