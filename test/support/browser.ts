// Debian's Chromium driven by playwright-core (no browser download); e2e tests skip without it.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startServer, tempHome, type RunningServer } from './server';

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

/**
 * A served app (startServer, in `opts.home` or a fresh temp home) and a browser for one test;
 * both are closed however `fn` ends.
 */
export async function withServerAndBrowser<T>(
  opts: Parameters<typeof startServer>[0],
  fn: (session: { server: RunningServer; browser: Browser; home: string }) => Promise<T>,
): Promise<T> {
  const home = opts?.home ?? tempHome();
  const server = await startServer({ ...opts, home });
  const browser = await launchBrowser();
  try {
    return await fn({ server, browser, home });
  } finally {
    await browser.close();
    await server.stop();
  }
}
