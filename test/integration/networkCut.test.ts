/**
 * The resilience tests' network cut is real: while it is on, a UDP datagram or a TCP connection
 * to the port does not get through (and another port still does); once restored, both do again
 * and no nftables table of ours is left behind.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { freePortRange } from '../../tools/freePorts.js';
import { cutPort, type NetworkCut, tableExists } from '../support/networkCut.js';

/** A UDP socket bound on loopback that remembers what it received. */
async function udpSink(port: number): Promise<{ received: string[]; close(): void }> {
  const socket = dgram.createSocket('udp4');
  const received: string[] = [];
  socket.on('message', (message) => received.push(message.toString()));
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', () => resolve()));
  return { received, close: () => socket.close() };
}

function sendUdp(port: number, text: string): Promise<void> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve, reject) =>
    socket.send(text, port, '127.0.0.1', (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    }),
  );
}

/** Whether a TCP connection to the port is accepted within `ms`. */
function tcpConnects(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(ms, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('integration: a real network cut on one port (nftables)', function () {
  this.timeout(20_000);
  let cut: NetworkCut | undefined;
  const closers: (() => void)[] = [];

  afterEach(() => {
    cut?.restore();
    for (const close of closers.splice(0)) close();
  });

  it('drops UDP and TCP to and from the port only, and leaves nothing behind', async () => {
    const port = await freePortRange(1);
    const other = await freePortRange(1);
    const sink = await udpSink(port);
    const otherSink = await udpSink(other);
    closers.push(sink.close, otherSink.close);
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    closers.push(() => server.close());

    await sendUdp(port, 'before');
    await pause(200);
    assert.deepEqual(sink.received, ['before'], 'the path works before the cut');
    assert.ok(await tcpConnects(port, 1000), 'TCP connects before the cut');

    cut = cutPort(port);
    assert.ok(tableExists(cut.table));
    await sendUdp(port, 'during');
    await sendUdp(other, 'other port');
    await pause(500);
    assert.deepEqual(sink.received, ['before'], 'a datagram sent during the cut is not received');
    assert.deepEqual(otherSink.received, ['other port'], 'another port is not cut');
    assert.equal(await tcpConnects(port, 1000), false, 'TCP does not connect during the cut');

    const table = cut.table;
    cut.restore();
    assert.equal(tableExists(table), false, 'restore deletes our table');
    await sendUdp(port, 'after');
    await pause(200);
    assert.deepEqual(sink.received, ['before', 'after'], 'the path works again');
    assert.ok(await tcpConnects(port, 1000), 'TCP connects again');
  });
});
