import dgram from 'node:dgram';
import net from 'node:net';

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** A base port such that `count` consecutive ports are free for both UDP and TCP on loopback. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 42000 + Math.floor(Math.random() * 18000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = (await tcpFree(base + i)) && (await udpFree(base + i));
    if (ok) return base;
  }
  throw new Error('no free port range found');
}
