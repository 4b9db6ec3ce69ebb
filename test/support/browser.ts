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

/**
 * What the tests watch in every page, installed before the page's own scripts: the browser's
 * RTCPeerConnections (what is sent, received and decoded) and WebSockets (to cut the network,
 * hold back a notification, or send what the UI never would). The product exposes nothing for
 * tests; the browser is observed from outside, as a network or a debugger would.
 * (A string: code compiled by the test runner may reference helpers the page lacks.)
 */
export const PROBE = `(() => {
  const peers = [];
  const sockets = [];
  const held = new Set();
  let ackId = 900000;
  const NativePeer = window.RTCPeerConnection;
  if (typeof NativePeer === 'function') {
    window.RTCPeerConnection = new Proxy(NativePeer, {
      construct(target, args, newTarget) {
        const peer = Reflect.construct(target, args, newTarget);
        peers.push(peer);
        return peer;
      },
    });
  }
  const NativeSocket = window.WebSocket;
  class ProbedWebSocket extends NativeSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
    get onmessage() {
      return super.onmessage;
    }
    set onmessage(handler) {
      // A held notification (a Socket.IO event frame '42["name",…]') never reaches the page.
      super.onmessage = handler && ((event) => {
        if (typeof event.data === 'string' && [...held].some((name) => event.data.startsWith('42["' + name + '"'))) return;
        handler.call(this, event);
      });
    }
  }
  window.WebSocket = ProbedWebSocket;
  const live = () => peers.filter((peer) => peer.connectionState !== 'closed' && peer.signalingState !== 'closed');
  const open = () => {
    const socket = sockets.filter((s) => s.readyState === NativeSocket.OPEN).at(-1);
    if (!socket) throw new Error('no open WebSocket');
    return socket;
  };
  window.__relaisProbe = {
    async inbound() {
      const rows = [];
      for (const peer of live()) {
        const report = await peer.getStats();
        report.forEach((stat) => {
          if (stat.type === 'inbound-rtp')
            rows.push({ kind: stat.kind, packetsReceived: stat.packetsReceived || 0, framesDecoded: stat.framesDecoded || 0 });
        });
      }
      return rows;
    },
    sending() {
      return live().some((peer) => peer.getSenders().some((sender) => sender.track !== null));
    },
    cutNetwork() {
      for (const socket of sockets) socket.close();
    },
    hold(event) {
      held.add(event);
    },
    request(event, payload) {
      const socket = open();
      const id = ++ackId;
      return new Promise((resolve) => {
        const onMessage = (message) => {
          const prefix = '43' + id;
          if (typeof message.data !== 'string' || !message.data.startsWith(prefix + '[')) return;
          socket.removeEventListener('message', onMessage);
          resolve(JSON.parse(message.data.slice(prefix.length))[0]);
        };
        socket.addEventListener('message', onMessage);
        socket.send('42' + id + JSON.stringify([event, payload]));
      });
    },
  };
})();`;

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
      const page = await prepareTestPage(await browser.newPage(), 'page');
      pages.push(page);
      return page;
    },
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new test page in any engine: the probe installed before the page's own scripts, its errors and warnings on stderr. */
export async function prepareTestPage(page: Page, label: string): Promise<Page> {
  page.setDefaultTimeout(30_000);
  await page.evaluateOnNewDocument(PROBE);
  page.on('pageerror', (error) => console.error(`[${label} error] ${String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn')
      console.error(`[${label} ${message.type()}] ${message.text()}`);
  });
  return page;
}
