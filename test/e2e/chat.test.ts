// e2e: the real renderer in Chromium, browser mode, the real engine and SQLite file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, noChromium, withServerAndBrowser } from '../support/browser';
import { enginePidOf, startServer, tempHome, waitFor } from '../support/server';

async function openApp(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  await page.goto(url);
  await page.getByTestId('nav-chat').waitFor();
  (page as Page & { errors?: string[] }).errors = errors;
  return page;
}

async function setSetting(page: Page, testId: string, value: string) {
  if (!(await page.getByTestId(testId).isVisible())) await page.getByTestId('settings-toggle').click();
  await page.getByTestId(testId).fill(value);
  await page.getByTestId(testId).blur();
}

async function send(page: Page, text: string) {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('send-button').click();
}

const lastAssistant = (page: Page) => page.locator('[data-testid="message"][data-role="assistant"]').last();

test('chat: create a conversation, stream a reply, restart the server, reload — it is all still there', { skip: noChromium }, async () => {
  const home = tempHome();
  let server = await startServer({ home });
  const browser = await launchBrowser();
  try {
    const page = await openApp(browser, server.url);
    await page.getByTestId('new-conversation').click();
    await setSetting(page, 'settings-max-tokens', '80');
    await setSetting(page, 'settings-temperature', '0');
    await send(page, 'Tell me about a dog.');
    const reply = lastAssistant(page);
    await waitFor(async () => ((await reply.getByTestId('message-content').innerText()).length > 0) || undefined, 'streamed text');
    await waitFor(async () => (await reply.getAttribute('data-status')) === 'complete' || undefined, 'reply complete', 30_000);
    const text = await reply.getByTestId('message-content').innerText();
    assert.ok(text.length > 10, text);
    assert.match(await reply.getByTestId('message-stats').innerText(), /tok\/s/);
    const title = await page.locator('[data-testid="conversation-item"][aria-current="true"]').innerText();
    assert.match(title, /Tell me about a dog/);

    const port = String(new URL(server.url).port);
    await server.stop();
    server = await startServer({ home, token: server.token, env: { PADDOCK_PORT: port } });
    await page.goto(server.url);
    await page.getByTestId('conversation-item').first().waitFor();
    await page.getByTestId('conversation-item').first().click();
    const restored = lastAssistant(page);
    await restored.waitFor();
    assert.equal(await restored.getByTestId('message-content').innerText(), text);
    assert.equal(await restored.getAttribute('data-status'), 'complete');
    assert.deepEqual((page as Page & { errors?: string[] }).errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('chat: killing the engine mid-reply shows an error, keeps the partial reply marked, and the next message works', { skip: noChromium }, async () => {
  await withServerAndBrowser({ env: { PADDOCK_ENGINE_STEP_DELAY_MS: '60' } }, async ({ server, browser }) => {
    const page = await openApp(browser, server.url);
    await page.getByTestId('new-conversation').click();
    await setSetting(page, 'settings-max-tokens', '400');
    await send(page, 'Once upon a time');
    const reply = lastAssistant(page);
    await waitFor(async () => ((await reply.getByTestId('message-content').innerText()).length > 8) || undefined, 'some streamed text');
    const pid = enginePidOf(server.proc.pid!);
    assert.ok(pid, 'engine process found');
    process.kill(pid!, 'SIGKILL');
    await waitFor(async () => (await reply.getAttribute('data-status')) === 'interrupted' || undefined, 'reply marked interrupted');
    assert.match(await reply.getByTestId('message-error').innerText(), /engine/i);
    const partial = await reply.getByTestId('message-content').innerText();
    assert.ok(partial.length > 0, 'partial reply kept');

    await setSetting(page, 'settings-max-tokens', '20');
    await send(page, 'And then?');
    const next = lastAssistant(page);
    await waitFor(async () => (await next.getAttribute('data-status')) === 'complete' || undefined, 'next reply complete', 30_000);
    assert.ok((await next.getByTestId('message-content').innerText()).length > 0);
    // The interrupted reply is still there, still marked, after a reload.
    await page.reload();
    const first = page.locator('[data-testid="message"][data-role="assistant"]').first();
    await first.waitFor();
    assert.equal(await first.getAttribute('data-status'), 'interrupted');
    assert.equal(await first.getByTestId('message-content').innerText(), partial);
  });
});

test('chat: sampling and context settings persist per conversation and reach the engine', { skip: noChromium }, async () => {
  await withServerAndBrowser({}, async ({ server, browser }) => {
    const page = await openApp(browser, server.url);
    await page.getByTestId('new-conversation').click();
    await setSetting(page, 'settings-temperature', '0');
    await setSetting(page, 'settings-max-tokens', '12');
    await setSetting(page, 'settings-min-p', '0.05');
    await setSetting(page, 'settings-repeat-penalty', '1.1');
    await setSetting(page, 'settings-frequency-penalty', '0.2');
    await setSetting(page, 'settings-presence-penalty', '0.1');
    await setSetting(page, 'settings-penalty-last-n', '32');
    // A +100 bias on the text "the" (resolved with the model's tokenizer) makes greedy say only it.
    await setSetting(page, 'settings-logit-bias', 'the: 100');
    await waitFor(async () => (await page.getByTestId('settings-status').innerText()) === 'Saved' || undefined, 'settings saved');
    await send(page, 'Once upon a time');
    const reply = lastAssistant(page);
    await waitFor(async () => (await reply.getAttribute('data-status')) === 'complete' || undefined, 'reply complete', 30_000);
    const biased = await reply.getByTestId('message-content').innerText();
    assert.match(biased.replace(/\s+/g, ''), /^(the|th|he|t|h|e)+$/, `every token comes from "the": ${biased}`);

    // A small context with the shift policy: old turns are left out of the prompt, and (until
    // the native context can shift) a reply that fills it is cut; the message says which and why.
    await setSetting(page, 'settings-logit-bias', '');
    await setSetting(page, 'settings-max-tokens', '200');
    await setSetting(page, 'settings-context-length', '64');
    await page.getByTestId('settings-context-policy').selectOption('shift');
    await waitFor(async () => (await page.getByTestId('settings-status').innerText()) === 'Saved' || undefined, 'settings saved');
    await send(page, 'Tell me a long story about a dog and a cat.');
    const cut = lastAssistant(page);
    await waitFor(async () => (await cut.getAttribute('data-status')) === 'complete' || undefined, 'reply complete', 30_000);
    assert.match(await cut.getByTestId('message-context').innerText(), /^context: shift · .*(older prompt tokens left out|shifted|reply cut)/);

    // Stored with the conversation: a reload shows the same values; a new conversation has the defaults.
    await page.reload();
    await page.getByTestId('conversation-item').first().click();
    if (!(await page.getByTestId('settings-min-p').isVisible())) await page.getByTestId('settings-toggle').click();
    assert.equal(await page.getByTestId('settings-min-p').inputValue(), '0.05');
    assert.equal(await page.getByTestId('settings-repeat-penalty').inputValue(), '1.1');
    assert.equal(await page.getByTestId('settings-penalty-last-n').inputValue(), '32');
    assert.equal(await page.getByTestId('settings-context-length').inputValue(), '64');
    assert.equal(await page.getByTestId('settings-context-policy').inputValue(), 'shift');
    const convs = await server.call<{ id: string; settings: Record<string, unknown> }[]>('chat.list');
    assert.equal(convs[0].settings.frequencyPenalty, 0.2);
    assert.equal(convs[0].settings.presencePenalty, 0.1);
    await page.getByTestId('new-conversation').click();
    if (!(await page.getByTestId('settings-min-p').isVisible())) await page.getByTestId('settings-toggle').click();
    // The panel switches once the new conversation exists (one round trip after the click).
    await waitFor(async () => (await page.getByTestId('settings-min-p').inputValue()) === '0' || undefined,
      'new conversation shows default settings');
    assert.equal(await page.getByTestId('settings-context-length').inputValue(), '');
    assert.deepEqual((page as Page & { errors?: string[] }).errors, []);
  });
});
