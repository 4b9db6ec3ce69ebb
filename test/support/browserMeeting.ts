/**
 * Driving the relais web client the way a person does: open the link, go through the join
 * screen, click the controls; and reading what the page shows.
 */
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Page } from 'puppeteer-core';
import { ARTIFACTS } from './browser.js';

/** What `PROBE` (./browser.ts) gives the tests inside a page. */
interface ProbeWindow {
  __relaisProbe: {
    inbound(): Promise<{ kind: string; packetsReceived: number; framesDecoded: number }[]>;
    sending(): boolean;
    cutNetwork(): void;
    hold(event: string): void;
    request(event: string, payload: unknown): Promise<{ ok: boolean; error?: { code: string } }>;
  };
}

export interface OpenOptions {
  /** Untick echo cancellation and noise suppression so a test tone goes through intact. */
  originalSound?: boolean;
  camera?: boolean;
}

/**
 * Clicks like a person (real mouse events), in front; if the screen is redrawn between
 * finding the element and clicking it, finds it again.
 */
export async function press(page: Page, selector: string): Promise<void> {
  await page.bringToFront();
  for (let attempt = 1; ; attempt++) {
    try {
      await page.waitForSelector(selector, { visible: true });
      await page.click(selector);
      return;
    } catch (error) {
      if (attempt >= 5 || !/detached|not clickable|not an Element/i.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Opens the link with the token in the fragment and waits for the join screen. */
export async function openLink(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.bringToFront();
  await page.goto(`${baseUrl}/#token=${token}`, { waitUntil: 'load' });
}

/** Opens the link, goes through the join screen and waits until the meeting is connected. */
export async function joinMeeting(
  page: Page,
  baseUrl: string,
  token: string,
  options: OpenOptions = {},
): Promise<void> {
  await openLink(page, baseUrl, token);
  await page.waitForSelector('main[data-view="join"] .join-view[data-ready="true"]');
  if (page.url().includes('#')) throw new Error('the token stayed in the address bar');
  if (options.originalSound !== false) await setCheckbox(page, 'original-sound', true);
  if (options.camera === false) await setCheckbox(page, 'camera-on', false);
  await clickJoin(page);
  await waitConnected(page);
}

export async function clickJoin(page: Page): Promise<void> {
  // A background tab gets no animation frames: puppeteer's click would wait forever.
  await page.bringToFront();
  // The join screen redraws when the devices answer: click once it is settled.
  await page.waitForSelector('.join-view[data-ready="true"] [data-action="join"]:not([disabled])');
  await press(page, '[data-action="join"]');
}

export async function waitConnected(page: Page): Promise<void> {
  await page.waitForSelector(
    'main[data-view="meeting"] .connection[data-state="connected"], main[data-view="listener"] .connection[data-state="connected"]',
    { timeout: 30_000 },
  );
}

async function setCheckbox(page: Page, id: string, checked: boolean): Promise<void> {
  await page.waitForSelector('.join-view[data-ready="true"]');
  const current = await page.$eval(`#${id}`, (el) => (el as HTMLInputElement).checked);
  if (current !== checked) {
    await press(page, `#${id}`);
    // Changing the sound processing captures the microphone again and redraws the screen.
    await page.waitForSelector('.join-view[data-ready="true"]');
    const now = await page.$eval(`#${id}`, (el) => (el as HTMLInputElement).checked);
    if (now !== checked) throw new Error(`#${id} did not change`);
  }
}

export function tileSelector(participantId: string): string {
  return `li.tile[data-participant-id="${participantId}"]`;
}

/** The participant ids the page shows as tiles, in order. */
export function tileIds(page: Page): Promise<string[]> {
  return page.$$eval('li.tile', (tiles) => tiles.map((tile) => (tile as HTMLElement).dataset.participantId ?? ''));
}

export function tileAttribute(page: Page, participantId: string, name: string): Promise<string | undefined> {
  return page
    .$eval(tileSelector(participantId), (tile, key) => (tile as HTMLElement).dataset[key as string], name)
    .catch(() => undefined);
}

/** Mean brightness (0-255) and size of what a video element currently shows. */
export function videoPixels(
  page: Page,
  selector: string,
): Promise<{ width: number; height: number; brightness: number } | null> {
  return page.evaluate((sel: string) => {
    const video = document.querySelector<HTMLVideoElement>(sel);
    if (!video?.videoWidth) return null;
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 90;
    const context = canvas.getContext('2d');
    if (!context) return null;
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 4)
      sum += 0.2126 * (data[i] ?? 0) + 0.7152 * (data[i + 1] ?? 0) + 0.0722 * (data[i + 2] ?? 0);
    return { width: video.videoWidth, height: video.videoHeight, brightness: sum / (data.length / 4) };
  }, selector);
}

/** Frames decoded so far by the page's peer connections (all video received). */
export async function framesDecoded(page: Page): Promise<number> {
  const rows = await page.evaluate(() => (window as unknown as ProbeWindow).__relaisProbe.inbound());
  return rows.filter((row) => row.kind === 'video').reduce((sum, row) => sum + row.framesDecoded, 0);
}

/** Audio packets received so far by the page's peer connections. */
export async function audioPacketsReceived(page: Page): Promise<number> {
  const rows = await page.evaluate(() => (window as unknown as ProbeWindow).__relaisProbe.inbound());
  return rows.filter((row) => row.kind === 'audio').reduce((sum, row) => sum + row.packetsReceived, 0);
}

/** Whether the page sends a track to the server right now. */
export function sendsMedia(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as ProbeWindow).__relaisProbe.sending());
}

/** Cuts the page's signalling connection, as a network drop would. */
export function cutNetwork(page: Page): Promise<void> {
  return page.evaluate(() => (window as unknown as ProbeWindow).__relaisProbe.cutNetwork());
}

/** From now on the page never receives the notification `event` (as if the network held it back). */
export function holdNotification(page: Page, event: string): Promise<void> {
  return page.evaluate((name) => (window as unknown as ProbeWindow).__relaisProbe.hold(name), event);
}

/** Sends a catalog request over the page's own connection, as a crafted client would; resolves with the ack. */
export function craftedRequest(
  page: Page,
  event: string,
  payload: unknown,
): Promise<{ ok: boolean; error?: { code: string } }> {
  return page.evaluate(
    (name, body) => (window as unknown as ProbeWindow).__relaisProbe.request(name, body),
    event,
    payload as Record<string, unknown>,
  );
}

/** Texts announced to screen readers so far. */
export function announcements(page: Page): Promise<string[]> {
  return page.$$eval('#announcer p', (lines) => lines.map((line) => line.textContent ?? ''));
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file as `${string}.png` });
  return file;
}
