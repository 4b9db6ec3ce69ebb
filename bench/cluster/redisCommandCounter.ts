import net from 'node:net';

/**
 * A TCP relay between relais nodes and Redis that counts the commands clients send (top-level
 * RESP arrays), i.e. the round trips relais asks of Redis. Redis's own counters include the
 * commands its Lua scripts run, which cost no round trip.
 */
export class RedisCommandCounter {
  commands = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly target: number) {
    this.server = net.createServer((client) => this.relay(client));
  }

  static async start(targetPort: number): Promise<RedisCommandCounter & { port: number }> {
    const counter = new RedisCommandCounter(targetPort);
    await new Promise<void>((resolve) => counter.server.listen(0, '127.0.0.1', resolve));
    const port = (counter.server.address() as net.AddressInfo).port;
    return Object.assign(counter, { port });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.target, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    const parser = new RespCommandParser(() => {
      this.commands += 1;
    });
    client.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}

/** Counts complete client commands in a RESP stream: `*N\r\n` then N bulk strings `$len\r\n…\r\n`. */
class RespCommandParser {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onCommand: () => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const used = this.command(this.buffer);
      if (used === 0) return;
      this.buffer = this.buffer.subarray(used);
      this.onCommand();
    }
  }

  /** Bytes of one complete command at the start of `data`, or 0 when it is not complete yet. */
  private command(data: Buffer): number {
    const header = this.line(data, 0);
    if (!header) return 0;
    if (data[0] !== 0x2a) {
      // An inline command (a line of text): one command.
      return header.next;
    }
    const count = Number(header.text.slice(1));
    let offset = header.next;
    for (let i = 0; i < count; i++) {
      const size = this.line(data, offset);
      if (!size) return 0;
      const length = Number(size.text.slice(1));
      const end = size.next + length + 2;
      if (end > data.length) return 0;
      offset = end;
    }
    return offset;
  }

  private line(data: Buffer, from: number): { text: string; next: number } | undefined {
    const end = data.indexOf('\r\n', from);
    if (end < 0) return undefined;
    return { text: data.toString('latin1', from, end), next: end + 2 };
  }
}
