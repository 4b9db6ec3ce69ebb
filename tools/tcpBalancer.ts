import net from 'node:net';

/** How long a backend may take to accept before the next one is tried (a hung host, not a killed one). */
const CONNECT_TIMEOUT_MS = 2000;

export interface TcpBalancer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: what clients are given instead of a node's address. */
  readonly url: string;
  /** Client connections accepted so far, and the backend port each went to (0: none answered). */
  readonly placed: number[];
  close(): Promise<void>;
}

/**
 * A TCP load balancer for tests and benchmarks, as HAProxy in `mode tcp` with `balance
 * roundrobin`: each new client connection goes to the next backend; a backend that refuses (a
 * killed node's port is closed at once) is skipped for the next. Bytes are piped both ways and
 * either side closing closes the other. Signalling (Socket.IO over WebSocket) goes through it;
 * media does not (ICE goes to each node's announced address, as behind a real balancer).
 */
export async function startTcpBalancer(backendPorts: number[], host = '127.0.0.1'): Promise<TcpBalancer> {
  if (backendPorts.length === 0) throw new Error('the balancer needs at least one backend');
  const placed: number[] = [];
  const open = new Set<net.Socket>();
  let next = 0;

  const connectTo = (port: number): Promise<net.Socket | undefined> =>
    new Promise((resolve) => {
      const backend = net.connect({ host, port });
      const timer = setTimeout(() => fail(), CONNECT_TIMEOUT_MS);
      const fail = (): void => {
        clearTimeout(timer);
        backend.destroy();
        resolve(undefined);
      };
      backend.once('error', fail);
      backend.once('connect', () => {
        clearTimeout(timer);
        backend.off('error', fail);
        resolve(backend);
      });
    });

  const server = net.createServer({ pauseOnConnect: true }, async (client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    const start = next;
    next = (next + 1) % backendPorts.length;
    let backend: net.Socket | undefined;
    let port = 0;
    for (let i = 0; i < backendPorts.length && !backend && !client.destroyed; i++) {
      port = backendPorts[(start + i) % backendPorts.length] ?? 0;
      backend = await connectTo(port);
    }
    placed.push(backend ? port : 0);
    if (!backend || client.destroyed) {
      backend?.destroy();
      client.destroy();
      return;
    }
    open.add(backend);
    backend.once('close', () => {
      open.delete(backend);
      client.destroy();
    });
    backend.on('error', () => backend.destroy());
    client.once('close', () => backend.destroy());
    client.pipe(backend);
    backend.pipe(client);
    client.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://${host}:${port}`,
    placed,
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
