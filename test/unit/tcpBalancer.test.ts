import assert from 'node:assert/strict';
import net from 'node:net';
import { freePortRange } from '../../tools/freePorts.js';
import { startTcpBalancer, type TcpBalancer } from '../../tools/tcpBalancer.js';

/** A backend that answers each connection with its name, then echoes. */
async function namedServer(name: string): Promise<{ port: number; server: net.Server; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.write(`${name}:`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as net.AddressInfo).port, server, sockets };
}

/** Connects through the balancer, sends `text`, and reads until the echo came back. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no echo of ${text}: ${got}`)), 3000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      got += chunk.toString();
      if (got.endsWith(text)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(got.slice(0, -text.length));
      }
    });
    socket.write(text);
  });
}

describe('the test TCP balancer', () => {
  let balancer: TcpBalancer | undefined;
  const servers: net.Server[] = [];

  afterEach(async () => {
    await balancer?.close();
    for (const server of servers.splice(0)) server.close();
  });

  it('round-robins connections, skips a backend that refuses, and closes the client when the backend goes', async () => {
    const a = await namedServer('a');
    const b = await namedServer('b');
    servers.push(a.server, b.server);
    const dead = await freePortRange(1); // nothing listens: refused at once, as a killed node
    balancer = await startTcpBalancer([a.port, dead, b.port]);
    const names: string[] = [];
    for (let i = 0; i < 4; i++) names.push(await exchange(balancer.port, `hello-${i}`));
    assert.deepEqual(names, ['a:', 'b:', 'b:', 'a:']);
    assert.deepEqual(balancer.placed, [a.port, b.port, b.port, a.port]);

    // The fifth connection goes to b; b's process dying (its socket destroyed) closes the client.
    const client = net.connect({ host: '127.0.0.1', port: balancer.port });
    await new Promise((resolve) => client.once('data', resolve));
    const closed = new Promise((resolve) => client.once('close', resolve));
    b.sockets.at(-1)?.destroy();
    await closed;
  });

  it('refuses the client when no backend answers', async () => {
    balancer = await startTcpBalancer([await freePortRange(1)]);
    const socket = net.connect({ host: '127.0.0.1', port: balancer.port });
    await new Promise((resolve) => socket.once('close', resolve));
    assert.deepEqual(balancer.placed, [0]);
  });
});
