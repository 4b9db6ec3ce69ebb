/**
 * A crisis meeting over a cluster, in real Chromium: three relais processes sharing a private
 * Redis, one member on each node with a tone of their own — each hears and sees both others.
 * Then a moderator on node 1 gives the floor to a listener connected to node 3: a listener on
 * node 2 hears them; taking it back closes the producer and its pipes on every node.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { hear, isTone, writeToneWav } from '../support/browserAudio.js';
import {
  joinMeeting,
  openLink,
  press,
  screenshot,
  sendsMedia,
  tileSelector,
  videoPixels,
  waitConnected,
} from '../support/browserMeeting.js';
import type { RelaisProcess } from '../support/relaisProcess.js';
import { SignallingClient } from '../support/signallingClient.js';
import { startTestCluster, type TestCluster } from '../support/threeNodeCluster.js';
import { eventually } from '../support/wait.js';

const TONES = { alice: 440, bruno: 660, chloe: 880 } as const;

describe('e2e: one meeting over three nodes (separate processes, real Redis, real Chromium)', function () {
  this.timeout(180_000);
  let cluster: TestCluster;
  let nodes: [RelaisProcess, RelaisProcess, RelaisProcess];
  let tones: string;
  const browsers: TestBrowser[] = [];
  const pages: Page[] = [];
  const clients: SignallingClient[] = [];

  before(async () => {
    tones = mkdtempSync(path.join(os.tmpdir(), 'relais-cluster-tones-'));
    cluster = await startTestCluster(3, () => ({ RELAIS_LOG_LEVEL: 'warn' }));
    nodes = cluster.nodes as [RelaisProcess, RelaisProcess, RelaisProcess];
    // One browser per fake microphone, each with its own tone.
    for (const [who, hz] of Object.entries(TONES))
      browsers.push(await launchBrowser({ audioFile: writeToneWav(path.join(tones, `${who}.wav`), hz) }));
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed')
      for (const [index, page] of pages.entries())
        if (!page.isClosed()) await screenshot(page, `cluster-failed-${index}.png`).catch(() => undefined);
  });

  after(async () => {
    for (const client of clients) client.close();
    for (const page of pages) await page.close().catch(() => undefined);
    for (const browser of browsers) await browser.close();
    await cluster?.stop();
    if (tones) rmSync(tones, { recursive: true, force: true });
  });

  it('one member per node: each hears both others’ tones and sees both others’ video', async () => {
    const members = Object.keys(TONES) as (keyof typeof TONES)[];
    const joined: Page[] = [];
    for (const [index, sub] of members.entries()) {
      const page = await (browsers[index] as TestBrowser).page();
      pages.push(page);
      const node = nodes[index] as RelaisProcess;
      await joinMeeting(page, node.url, cluster.token({ room: 'crisis', role: 'speaker', sub, name: sub }));
      joined.push(page);
    }
    for (const [index, page] of joined.entries()) {
      for (const other of members.filter((_, i) => i !== index)) {
        await eventually(
          `${members[index]} (node ${index + 1}) to hear ${other}’s ${TONES[other]} Hz`,
          async () => isTone(await hear(page, other), TONES[other]),
          45_000,
        );
        await eventually(`${members[index]} to see ${other}’s video`, async () => {
          const shown = await videoPixels(page, `${tileSelector(other)} video`);
          return shown !== undefined && shown !== null && shown.brightness > 20;
        });
      }
    }
    await screenshot(joined[0] as Page, 'cluster-meeting-three-nodes.png');
    for (const page of joined) await page.close();
  });

  it('a moderator on node 1 gives the floor to a listener on node 3, heard on node 2; taken back, gone everywhere', async () => {
    const [n1, n2, n3] = nodes;
    const { client: moderator } = await SignallingClient.join(
      n1.url,
      cluster.token({ room: 'floor', role: 'moderator', sub: 'commander', name: 'Commandant Roux' }),
    );
    clients.push(moderator);
    const openListener = async (browser: TestBrowser, node: RelaisProcess, sub: string): Promise<Page> => {
      const page = await browser.page();
      pages.push(page);
      await openLink(page, node.url, cluster.token({ room: 'floor', role: 'listener', sub, name: sub }));
      await press(page, '[data-action="join"]');
      await waitConnected(page);
      return page;
    };
    // The listener given the floor speaks with Chloé's 880 Hz; the one on node 2 only listens.
    const onNode3 = await openListener(browsers[2] as TestBrowser, n3, 'prefecture-3');
    const onNode2 = await openListener(browsers[0] as TestBrowser, n2, 'prefecture-2');

    await moderator.request('grantFloor', { participantId: 'prefecture-3' });
    await eventually('the listener on node 3 to publish its microphone', () => sendsMedia(onNode3));
    await eventually(
      'the listener on node 2 to hear the listener on node 3',
      async () => isTone(await hear(onNode2, 'prefecture-3'), 880),
      45_000,
    );
    assert.equal(await cluster.metric(n2, 'relais_pipes', 'direction="in"'), 1, 'node 2 receives it once');
    assert.equal(await cluster.metric(n3, 'relais_pipes', 'direction="out"'), 1, 'node 3 serves one pipe (to node 2)');

    await moderator.request('revokeFloor', { participantId: 'prefecture-3' });
    await eventually(
      'the voice gone at the listener on node 2',
      async () => (await onNode2.$('audio[data-participant-id="prefecture-3"][data-source="mic"]')) === null,
    );
    for (const node of [n1, n2, n3]) {
      await eventually(`no pipe left on ${node.url}`, async () => {
        const { pipes_in, pipes_out, pipe_transports_in, pipe_transports_out } = await cluster.mediaHeld(node);
        return [pipes_in, pipes_out, pipe_transports_in, pipe_transports_out].every((count) => count === 0);
      });
      assert.equal(await cluster.metric(node, 'relais_media_objects', 'kind="producers"'), 0, 'no producer left');
    }
  });

  it('a draining node sends its page to another node: the page goes there by itself, token and all, one click to enter', async () => {
    const [n1, n2, n3] = nodes;
    const page = await (browsers[1] as TestBrowser).page();
    pages.push(page);
    await openLink(
      page,
      n3.url,
      cluster.token({ room: 'moving', role: 'listener', sub: 'mobile-post', name: 'Poste mobile' }),
    );
    await press(page, '[data-action="join"]');
    await waitConnected(page);
    const answer = await cluster.admin(n1, 'POST', '/nodes/node-3/drain');
    assert.equal(answer.status, 202);
    await eventually('the page to move to node 1 or 2', async () => {
      const url = page.url();
      return url.startsWith(n1.url) || url.startsWith(n2.url);
    });
    // The token travelled in the fragment and leaves the address bar again; one click to enter
    // (the browser lets a page play sound only after a gesture on it).
    await page.waitForSelector('main[data-view="join"] .join-view[data-ready="true"]');
    assert.ok(!page.url().includes('token='), 'the token left the address bar again');
    await press(page, '[data-action="join"]');
    await waitConnected(page);
    await eventually('node 3 to stop by itself', async () => !n3.alive, 60_000);
  });
});
