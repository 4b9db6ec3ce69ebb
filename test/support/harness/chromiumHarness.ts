import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'puppeteer-core';
import { launchBrowser } from '../browser.js';
import type { RelaisHarness } from './page.js';
import { eventually } from '../wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));

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
    const [output] = result.outputFiles;
    if (!output) throw new Error('esbuild wrote no harness bundle');
    bundle = output.text;
  }
  return bundle;
}

export interface ChromiumHarness {
  browser: Browser;
  /** A page on the relais origin with `window.relaisHarness` ready. */
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

/** The e2e tests' Chromium (fake devices, isolated profile, loopback only), with the harness page. */
export async function launchChromium(extraArgs: string[] = []): Promise<ChromiumHarness> {
  const chromium = await launchBrowser({ extraArgs });
  const script = await harnessBundle();
  return {
    browser: chromium.browser,
    open: async (url: string) => {
      const page = await chromium.page();
      // The harness is injected into a relais page; the server's CSP rightly forbids inline scripts.
      await page.setBypassCSP(true);
      await page.goto(`${url}/healthz`);
      await page.addScriptTag({ content: script });
      return page;
    },
    close: () => chromium.close(),
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
      const call = h[name];
      if (!call) throw new Error(`no harness function ${name}`);
      return call(...params);
    },
    fn as string,
    args as unknown[],
  ) as Promise<Awaited<ReturnType<RelaisHarness[K]>>>;
}

type InboundStats = Awaited<ReturnType<RelaisHarness['stats']>>;

/** The busiest inbound stream of a kind: mediasoup-client also receives the SFU's bandwidth "probator" video stream. */
export function busiestInbound(stats: InboundStats, kind: 'audio' | 'video'): InboundStats[number] | undefined {
  return stats.filter((s) => s.kind === kind).sort((x, y) => y.packetsReceived - x.packetsReceived)[0];
}

/**
 * Waits until the client `name` in `page` has received audio packets and decoded video frames
 * (more than 50 and 10); a timeout names `what` and the last inbound statistics.
 */
export async function receivesAudioAndVideo(
  page: Page,
  name: string,
  what: string,
  timeoutMs = 30_000,
): Promise<{ audio: InboundStats[number]; video: InboundStats[number] }> {
  let last: unknown;
  return eventually(
    what,
    async () => {
      const stats = await harness(page, 'stats', name);
      last = stats;
      const audio = busiestInbound(stats, 'audio');
      const video = busiestInbound(stats, 'video');
      return audio && video && audio.packetsReceived > 50 && video.framesDecoded > 10 ? { audio, video } : undefined;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last inbound stats: ${JSON.stringify(last)}`);
  });
}
