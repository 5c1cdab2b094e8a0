// Debian's Chromium driven by playwright-core (nothing downloaded): headless, a fresh profile per launch (playwright
// makes and removes it), and the flags that keep it from calling out of this machine. Tests call
// requireCommands(t, ['chromium']) first.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from './requirements.js';

export const CHROMIUM = '/usr/bin/chromium';

/** A headless Chromium. */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--metrics-recording-only',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** Where tests keep screenshots (GUREUM_TEST_ARTIFACTS, else .artifacts/ in the repository, ignored by git). */
export function artifactsDir(name: string): string {
  const dir = join(process.env.GUREUM_TEST_ARTIFACTS || join(REPO_ROOT, '.artifacts'), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
