import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Debian's chromium, which .ci/run installs; the browser suites skip (saying why) without it. */
export const CHROMIUM = '/usr/bin/chromium';
export const chromiumMissing: string | false = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian package "chromium")`;

/** Screenshots of the console's pages land here (ignored by git) for a person to look at. */
export const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'e2e', 'screenshots');

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root (as in CI containers) cannot use chromium's sandbox; /dev/shm is small in containers.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage'],
  });
}

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }

/** Runs axe-core in the page; returns the serious and critical violations (WCAG 2.x A and AA rules). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Browser-side code as text: the test project has no DOM types.
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(`window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    .then((result) => result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(violations: AxeViolation[]): string {
  return violations.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`).join('\n');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The console suites' pages: each in a browser context of its own, closed together by close(). */
export class ConsolePages {
  private readonly contexts: BrowserContext[] = [];

  constructor(private readonly browser: () => Browser) {}

  async open(options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
    // bypassCSP: axe-core is injected as an inline script, which the console's policy (rightly) refuses.
    const context = await this.browser().newContext({ viewport: options.viewport ?? { width: 1280, height: 900 }, colorScheme: options.colorScheme ?? 'light', bypassCSP: true });
    this.contexts.push(context);
    const page = await context.newPage();
    // A loaded machine (two cores, several suites) can be slow: wait for conditions, generously.
    page.setDefaultTimeout(60_000);
    page.on('dialog', (dialog) => { void dialog.accept(); });
    return page;
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close().catch(() => {});
  }
}

/** Signs in on the console at `url`; done when the overview's heading shows (at phone width the menu stays closed). */
export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

/** The page, once loaded, has no serious or critical axe violation; its screenshot is kept. */
export async function assertAccessible(page: Page, name: string): Promise<void> {
  await page.locator('.loading').first().waitFor({ state: 'detached' });
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${name}: axe found serious or critical violations:\n${describeViolations(violations)}`);
  await screenshot(page, name);
}

/** A link of the console's menu. */
export const consoleNav = (page: Page, label: string) => page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: label, exact: true });

/** The image list's row of a repository. */
export const imageRow = (page: Page, name: string) => page.getByTestId('image-row').filter({ has: page.getByRole('link', { name, exact: true }) });
