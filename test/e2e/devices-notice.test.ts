// e2e (browser mode, real engine): on a machine where CUDA cannot run, the CPU fallback is never
// silent — the chat shows where the model runs and a warning banner with the engine's notice;
// choosing CUDA in the Models view is warned about at once and survives a reload. With the
// CUDA emulator module the Models view lists the device and suggests the GPU layers that fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { addonPath } from '../../electron/engine/addon';
import { noChromium, withServerAndBrowser } from '../support/browser';
import { waitFor } from '../support/server';

test('devices: without a CUDA device, Auto falls back with a visible notice in the chat; CUDA chosen is warned about and kept', { skip: noChromium }, async (t) => {
  // Without PADDOCK_CUDA_MODULE the real module (or none) is used.
  const env = { PADDOCK_CUDA_MODULE: '' };
  await withServerAndBrowser({ env }, async ({ server, browser }) => {
    const listed = await server.call<{ devices: { cuda: { devices: unknown[] } } }>('system.devices');
    if (listed.devices.cuda.devices.length > 0) return t.skip('a CUDA device is present: no fallback to show');
    const page = await browser.newPage();
    await page.goto(server.url);
    // Auto (the default): the reply runs on the CPU and the chat says so, with the engine's reason.
    await page.getByTestId('new-conversation').click();
    await page.getByTestId('composer-input').fill('Hello');
    await page.getByTestId('send-button').click();
    const notice = page.getByTestId('backend-notice');
    await notice.waitFor({ timeout: 30_000 });
    const text = await notice.innerText();
    assert.match(text, /CUDA/);
    assert.match(text, /running on the CPU/);
    assert.equal(await notice.getAttribute('role'), 'alert');
    assert.equal(await page.getByTestId('backend-status').innerText(), 'CPU');

    // CUDA chosen in the Models view: warned at once, saved, read back after a reload.
    await page.getByTestId('nav-models').click();
    await page.getByTestId('device-no-gpu').waitFor();
    await page.getByTestId('device-select').selectOption('cuda');
    await page.getByTestId('device-warning').waitFor();
    assert.match(await page.getByTestId('device-warning').innerText(), /no CUDA device/i);
    await waitFor(async () => (await server.call<{ settings: { device: string } }>('system.devices')).settings.device === 'cuda' || undefined, 'saved');
    await page.reload();
    await page.getByTestId('nav-models').click();
    await waitFor(async () => (await page.getByTestId('device-select').inputValue()) === 'cuda' || undefined, 'select restored');
  });
});

const emuModule = path.join(path.dirname(addonPath()), 'paddock_cuda_emu.so');

test('devices: with the CUDA emulator, the Models view lists the device with its free memory and suggests GPU layers', { skip: noChromium ?? (fs.existsSync(emuModule) ? undefined : `no ${emuModule}`) }, async () => {
  await withServerAndBrowser({ env: { PADDOCK_CUDA_MODULE: emuModule } }, async ({ server, browser }) => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByTestId('nav-models').click();
    const gpu = page.getByTestId('device-gpu');
    await gpu.waitFor();
    assert.match(await gpu.innerText(), /Paddock CUDA emulator \(CPU\) \(emulated\) · .* free of .* · sm 8\.0 · mma\.sync \(wgmma: not a sm_90 device \(sm_80\)\)/);
    // stories260K (5 layers, about 1 MB) fits the emulated device's free memory whole.
    const hint = page.getByTestId('gpu-layers-suggestion');
    await hint.waitFor();
    assert.match(await hint.innerText(), /stories260K: 5 of 5 layers fit the GPU's .* free/);
    await page.getByTestId('device-select').selectOption('cpu');
    await hint.waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('gpu-layers').isDisabled(), true);
  });
});
