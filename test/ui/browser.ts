/**
 * Debian's Chromium driven by playwright-core, for the dashboard tests and the screenshot
 * script. On this closed network Chromium stalls without these flags (it tries to reach update,
 * sync and QUIC endpoints), and each run gets a fresh user-data-dir so nothing leaks between runs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags the browser needs here (see the issue on the dashboard). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A browser with a fresh profile; `close()` removes the profile too. */
export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium; throws a message saying how to install it when it is missing. */
export async function openBrowser(viewport = { width: 1280, height: 900 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: the dashboard tests drive Debian's Chromium. Install it with: apt-get update && apt-get install -y chromium`);
  const profile = mkdtempSync(join(tmpdir(), 'evenkeel-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, timeout: 60_000 });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the dashboard at `base` in a new page and logs in with `token` through the form. */
export async function openDashboard(browser: Browser, base: string, token: string, viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(`${base}/`);
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.fill('#token', token);
  await page.click('#login-form button[type=submit]');
  await page.locator('#dash').waitFor({ state: 'visible' });
  return page;
}
