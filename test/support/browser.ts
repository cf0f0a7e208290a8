// Debian's Chromium driven by playwright-core (no browser download); e2e tests skip without it.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = process.env.PADDOCK_CHROMIUM ?? '/usr/bin/chromium';
export const noChromium = fs.existsSync(chromiumPath) ? undefined : `no Chromium at ${chromiumPath} (apt-get install chromium, as .ci/run does)`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
