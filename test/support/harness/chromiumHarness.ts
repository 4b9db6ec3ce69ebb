import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { RelaisHarness } from './page.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let bundle: string | undefined;

/** The harness page bundled once per test run (esbuild, already installed with vite). */
async function harnessBundle(): Promise<string> {
  if (!bundle) {
    const result = await build({
      entryPoints: [path.join(here, 'page.ts')],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'chrome110',
      write: false,
      logLevel: 'silent',
    });
    bundle = result.outputFiles[0]!.text;
  }
  return bundle;
}

export interface ChromiumHarness {
  browser: Browser;
  /** A page on the relais origin with `window.relaisHarness` ready. */
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

/** Debian's Chromium with fake devices, isolated profile, no network beyond loopback. */
export async function launchChromium(extraArgs: string[] = []): Promise<ChromiumHarness> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'relais-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required',
      `--user-data-dir=${profile}`,
      ...extraArgs,
    ],
    env: { ...process.env, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache') },
  });
  const script = await harnessBundle();
  return {
    browser,
    open: async (url: string) => {
      const page = await browser.newPage();
      // The harness is injected into a relais page; the server's CSP rightly forbids inline scripts.
      await page.setBypassCSP(true);
      await page.goto(`${url}/healthz`);
      await page.addScriptTag({ content: script });
      return page;
    },
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Calls a harness function inside the page. */
export function harness<K extends keyof RelaisHarness>(
  page: Page,
  fn: K,
  ...args: Parameters<RelaisHarness[K]>
): Promise<Awaited<ReturnType<RelaisHarness[K]>>> {
  return page.evaluate(
    (name, params) => {
      const h = (window as unknown as { relaisHarness: Record<string, (...a: unknown[]) => unknown> }).relaisHarness;
      return h[name]!(...params);
    },
    fn as string,
    args as unknown[],
  ) as Promise<Awaited<ReturnType<RelaisHarness[K]>>>;
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
