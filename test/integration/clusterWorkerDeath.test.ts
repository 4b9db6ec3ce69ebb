/**
 * A mediasoup worker killed on a node of a cluster (three relais processes, a private Redis):
 * the worker is replaced, the node's members of the room are told (`media-lost`) and the pipes
 * that went through it close on both sides; a listener joining that node again hears the
 * commander over a new pipe.
 */
import assert from 'node:assert/strict';
import { encodeTone } from '../../bench/load/opusTone.js';
import { OpusSpeaker } from '../../bench/load/opusSpeaker.js';
import { RtcListener } from '../../bench/load/rtcListener.js';
import { type RelaisProcess, workerPids } from '../support/relaisProcess.js';
import { SignallingClient } from '../support/signallingClient.js';
import { startTestCluster, type TestCluster } from '../support/threeNodeCluster.js';
import { eventually } from '../support/wait.js';

const ROOM = 'worker-loss';
const TONE_HZ = 550;

describe('a media worker killed on a node of a cluster: pipes re-established', function () {
  this.timeout(180_000);
  let cluster: TestCluster;
  const closers: { close(): void }[] = [];

  before(async () => {
    cluster = await startTestCluster(2, () => ({ RELAIS_LOG_LEVEL: 'warn' }));
  });

  after(async () => {
    for (const closer of closers) closer.close();
    await cluster?.stop();
  });

  async function listenerOn(node: RelaisProcess, sub: string): Promise<RtcListener> {
    const listener = new RtcListener(closers.length, {
      url: node.url,
      token: cluster.token({ room: ROOM, role: 'listener', sub, name: sub }),
      decode: true,
      toneHz: TONE_HZ,
    });
    closers.push(listener);
    await listener.join(30_000);
    assert.ok(await listener.firstAudio(15_000), `${sub} hears nothing`);
    await eventually(`${sub}: a second of audio`, () => listener.report().received >= 50, 15_000);
    assert.ok((listener.report().toneDominance ?? 0) > 0.9, JSON.stringify(listener.report()));
    return listener;
  }

  it('node 2 loses its worker: its members are told, the pipe closes, a rejoin hears the commander again', async () => {
    const [n1, n2] = cluster.nodes as [RelaisProcess, RelaisProcess];
    const speaker = await OpusSpeaker.start(
      n1.url,
      cluster.token({ room: ROOM, role: 'speaker', sub: 'commander', name: 'commander' }),
      encodeTone(TONE_HZ),
    );
    closers.push(speaker);
    await listenerOn(n2, 'before');
    const { client: observer } = await SignallingClient.join(
      n2.url,
      cluster.token({ room: ROOM, role: 'moderator', sub: 'observer', name: 'observer' }),
    );
    closers.push(observer);
    assert.equal(await cluster.metric(n2, 'relais_pipes', 'direction="in"'), 1);

    const [worker] = workerPids(n2);
    assert.ok(worker, 'node 2 runs a worker');
    process.kill(worker, 'SIGKILL');
    assert.deepEqual(await observer.next('sessionEnded', () => true, 20_000), { reason: 'media-lost' });
    await eventually(
      'the pipe to node 2 closed on node 1',
      async () => (await cluster.mediaHeld(n1)).pipes_out === 0,
      20_000,
    );
    await eventually(
      'node 2 ready again with a new worker',
      async () => {
        const ready = await fetch(`${n2.url}/readyz`);
        return ready.status === 200 && workerPids(n2)[0] !== worker;
      },
      30_000,
    );

    await listenerOn(n2, 'after');
    assert.equal(await cluster.metric(n2, 'relais_pipes', 'direction="in"'), 1, 'a new pipe from node 1');
    assert.equal(await cluster.metric(n1, 'relais_pipes', 'direction="out"'), 1);
  });
});
