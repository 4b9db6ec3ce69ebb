/**
 * Debian's Chromium for the end-to-end tests: headless, fake camera and microphone (a
 * given WAV as the microphone), an isolated profile, nothing but loopback.
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts');

export interface TestBrowser {
  browser: Browser;
  /** A new page that records its console errors (shown when a test fails). */
  page(): Promise<Page>;
  close(): Promise<void>;
}

export interface BrowserOptions {
  /** WAV file the fake microphone plays, looped. */
  audioFile?: string;
  extraArgs?: string[];
}

export async function launchBrowser(options: BrowserOptions = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'relais-e2e-'));
  for (const dir of ['config', 'cache']) mkdirSync(path.join(profile, dir));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    protocolTimeout: 120_000,
    defaultViewport: { width: 1280, height: 800 },
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
      // French first: the UI follows the browser's language.
      '--accept-lang=fr-FR,fr',
      // getDisplayMedia without a picker: the fake UI picks the screen.
      '--auto-select-desktop-capture-source=Entire screen',
      '--enable-usermedia-screen-capturing',
      `--user-data-dir=${path.join(profile, 'data')}`,
      ...(options.audioFile ? [`--use-file-for-fake-audio-capture=${options.audioFile}`] : []),
      ...(options.extraArgs ?? []),
    ],
    env: { ...process.env, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache') },
  });
  const pages: Page[] = [];
  return {
    browser,
    page: async () => {
      const page = await browser.newPage();
      page.setDefaultTimeout(30_000);
      page.on('pageerror', (error) => console.error(`[page error] ${String(error)}`));
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warn')
          console.error(`[page ${message.type()}] ${message.text()}`);
      });
      pages.push(page);
      return page;
    },
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value; the message says what never happened. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
