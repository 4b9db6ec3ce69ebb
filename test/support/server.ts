import { Writable } from 'node:stream';
import { issueToken, type TokenRequest } from '../../server/src/auth/tokenIssuer.js';
import { loadConfig } from '../../server/src/config/config.js';
import { createLogger } from '../../server/src/observability/logger.js';
import { RelaisServer } from '../../server/src/RelaisServer.js';
import { freePortRange } from './ports.js';

export const TEST_SECRET = 'relais-test-secret-0123456789-abcdefghijklmnop';

export interface TestServer {
  server: RelaisServer;
  url: string;
  /** Every JSON log line the server wrote, parsed. */
  logs: Record<string, unknown>[];
  token(request: Partial<TokenRequest> & Pick<TokenRequest, 'room' | 'role'>): string;
  stop(): Promise<void>;
}

/** The real server (real mediasoup workers) in-process, on free ports, logs captured. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const workers = Number(env.RELAIS_WORKERS ?? '1');
  const portBase = await freePortRange(workers);
  const config = loadConfig({
    RELAIS_ENV: 'development',
    RELAIS_HTTP_PORT: '0',
    RELAIS_RTC_PORT_BASE: String(portBase),
    RELAIS_WORKERS: String(workers),
    RELAIS_JWT_SECRET: TEST_SECRET,
    RELAIS_LOG_LEVEL: 'info',
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const logger = createLogger({ level: config.log.level, pretty: false, destination });
  const server = new RelaisServer({ config, logger });
  await server.start();
  let stopped = false;
  return {
    server,
    url: server.url,
    logs,
    token: (request) =>
      issueToken(server.issuerKey!, {
        name: `${request.role} ${request.sub ?? ''}`.trim(),
        ttlSeconds: 3600,
        ...request,
      }),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
