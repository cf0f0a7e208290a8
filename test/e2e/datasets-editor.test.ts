// e2e: the Datasets editor at scale. A generated 50,000-row OpenAI-chat JSONL is imported through
// the dialog (its progress bar fed by datasets.importProgress); the virtualized table jumps to the
// end with the keyboard, scrolls to row 40,000, opens and edits it; the edit is stored, and the DOM
// never holds more than the visible rows plus overscan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { noChromium, withServerAndBrowser } from '../support/browser';
import { tempHome, waitFor } from '../support/server';

const ROWS = 50_000;
const until = (what: string, fn: () => Promise<boolean>, ms = 20_000) => waitFor(async () => (await fn()) || undefined, what, ms);

function writeRows(file: string) {
  const lines: string[] = [];
  for (let i = 0; i < ROWS; i++) {
    lines.push(JSON.stringify({ messages: [{ role: 'user', content: `Question number ${i}` }, { role: 'assistant', content: `Answer number ${i}` }] }));
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

const rowEl = (page: Page, index: number) => page.locator(`[data-testid="dataset-row"][data-index="${index}"]`);

test('datasets editor: 50,000 rows import with progress, scroll to row 40,000, edit it, DOM stays small', { skip: noChromium }, async () => {
  const dir = tempHome('paddock-rows-');
  const file = path.join(dir, 'rows-50k.jsonl');
  writeRows(file);
  await withServerAndBrowser({}, async ({ server, browser }) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    await page.getByTestId('nav-datasets').click();

    // Import through the dialog, recording every progress text the bar shows.
    await page.getByTestId('dataset-import-open').click();
    await page.getByTestId('import-path').fill(file);
    await page.getByTestId('import-format').selectOption('openai');
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { __progress: string[] }).__progress = []);
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid="import-progress"]');
        if (el && seen.at(-1) !== el.textContent) seen.push(el.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const t0 = Date.now();
    await page.getByTestId('import-submit').click();
    await page.getByTestId('import-dialog').waitFor({ state: 'detached', timeout: 45_000 });
    const importMs = Date.now() - t0;
    const progress = await page.evaluate(() => (window as unknown as { __progress: string[] }).__progress);
    assert.ok(progress.some((p) => /[\d,]+ rows/.test(p)), `progress shown: ${JSON.stringify(progress)}`);
    await until('50,000 rows', async () => (await page.getByTestId('dataset-head-rows').innerText()) === '50,000 rows');
    console.log(`imported ${ROWS} rows through the UI in ${importMs} ms; ${progress.length} progress updates`);

    // Keyboard: focus the table, End jumps to the last row (fetched on demand), Home back.
    await rowEl(page, 0).getByTestId('row-preview').waitFor();
    await rowEl(page, 0).click();
    await page.keyboard.press('End');
    await until('last row loaded', async () => (await rowEl(page, ROWS - 1).getByTestId('row-preview').count()) === 1);
    assert.equal(await rowEl(page, ROWS - 1).getByTestId('row-preview').innerText(), `Question number ${ROWS - 1}`);
    assert.match((await rowEl(page, ROWS - 1).getAttribute('class')) ?? '', /cursor/);
    await page.keyboard.press('PageUp');
    await page.keyboard.press('ArrowUp');

    // Scroll the container to row 40,000 (index 39,999) and open it with Enter.
    const target = 39_999;
    const t1 = Date.now();
    await page.getByTestId('row-scroller').evaluate((el, top) => (el.scrollTop = top), target * 32 - 200);
    await until('row 40,000 loaded', async () => (await rowEl(page, target).getByTestId('row-preview').count()) === 1);
    const scrollMs = Date.now() - t1;
    assert.equal(await rowEl(page, target).getByTestId('row-preview').innerText(), `Question number ${target}`);
    await rowEl(page, target).click();
    await page.keyboard.press('Enter');
    const editor = page.getByTestId('row-editor');
    await until('editor on row 40,000', async () => (await editor.count()) === 1 && (await editor.getAttribute('data-row-index')) === String(target));

    const reply = editor.locator('[data-testid="editor-turn"][data-role="assistant"] [data-testid="turn-content"]');
    assert.equal(await reply.inputValue(), `Answer number ${target}`);
    const edited = 'Row 40,000, edited in the virtualized table.';
    await reply.fill(edited);
    await page.getByTestId('editor-save').click();
    await until('edit shown in the table', async () => (await rowEl(page, target).getByTestId('row-reply').innerText()) === edited);

    // Stored: read it back through the API.
    const rowId = await rowEl(page, target).getAttribute('data-row-id');
    const stored = await server.call<{ index: number; messages: { role: string; content: string }[] }>('datasets.row', { rowId });
    assert.equal(stored.index, target);
    assert.deepEqual(stored.messages.map((m) => m.content), [`Question number ${target}`, edited]);

    // Selection: Shift-click a range of 5, assign them to validation (one revision), undo it.
    const datasetId = (await server.call<{ id: string }[]>('datasets.list'))[0].id;
    const splits = async () => (await server.call<{ splitCounts: Record<string, number> }>('datasets.get', { datasetId })).splitCounts;
    await rowEl(page, target - 4).click();
    await rowEl(page, target).click({ modifiers: ['Shift'] });
    assert.equal(await page.getByTestId('bulk-count').innerText(), '5 selected');
    await page.getByTestId('bulk-split').selectOption('validation');
    await until('5 rows in validation', async () => (await splits()).validation === 5);
    await until('split shown', async () => (await rowEl(page, target).getByTestId('row-split').innerText()) === 'validation');
    await page.getByTestId('undo-button').click();
    await until('undone', async () => (await splits()).validation === 0);
    // Ctrl+A selects every row matching the filter; the bulk tag goes to exactly those rows.
    await page.getByTestId('filter-text').fill('question number 4999');
    await until('11 matching', async () => (await page.getByTestId('filter-total').innerText()) === '11 matching');
    await rowEl(page, 0).click();
    await page.keyboard.press('Control+a');
    assert.equal(await page.getByTestId('bulk-count').innerText(), '11 selected (all matching)');
    await page.getByTestId('bulk-tag-input').fill('picked');
    await page.getByTestId('bulk-tag').click();
    const tagged = async () => (await server.call<{ total: number }>('datasets.rows', { datasetId, filter: { tag: 'picked' }, limit: 1 })).total;
    await until('11 tagged', async () => (await tagged()) === 11);
    await page.getByTestId('filter-clear').click();
    await until('filter cleared', async () => (await page.getByTestId('filter-total').innerText()) === '50,000 rows');
    await page.getByTestId('row-scroller').evaluate((el, top) => (el.scrollTop = top), target * 32 - 200);
    await rowEl(page, target).getByTestId('row-preview').waitFor();

    // Escape closes the editor; the DOM holds only the visible rows + overscan.
    await rowEl(page, target).click();
    await page.keyboard.press('Escape');
    await editor.waitFor({ state: 'detached' });
    const rendered = await page.getByTestId('dataset-row').count();
    assert.ok(rendered > 10 && rendered < 100, `rendered rows: ${rendered}`);
    console.log(`row 40,000 loaded ${scrollMs} ms after the scroll; ${rendered} row elements in the DOM`);
    assert.deepEqual(errors, []);
  });
  fs.rmSync(dir, { recursive: true, force: true });
});
