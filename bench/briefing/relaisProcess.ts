/**
 * relais on its own, in a child of the benchmark, so that its CPU (the Node process and
 * every worker) is measured apart from the load generator's. Tells its parent over IPC:
 * { type: 'ready', url, pid, workerPids, consumersPerRouter } ; answers { type: 'routers' } with
 * the room's router loads; exits on { type: 'stop' } or when the parent goes away.
 */
import { loadConfig } from '../../server/src/config/config.js';
import { createLogger } from '../../server/src/observability/logger.js';
import { RelaisServer } from '../../server/src/RelaisServer.js';

const config = loadConfig({
  RELAIS_ENV: 'development',
  RELAIS_HTTP_HOST: '127.0.0.1',
  RELAIS_RTC_LISTEN_IP: '127.0.0.1',
  RELAIS_HTTP_PORT: '0',
  RELAIS_LOG_LEVEL: 'warn',
  RELAIS_LOG_PRETTY: 'false',
  ...process.env,
});
const logger = createLogger({ level: config.log.level, pretty: false });
const server = new RelaisServer({ config, logger });
await server.start();

const stop = async (): Promise<void> => {
  await server.stop().catch(() => undefined);
  process.exit(0);
};
process.on('disconnect', () => void stop());
process.on('message', (message: { type: string; room?: string }) => {
  if (message.type === 'stop') void stop();
  if (message.type === 'producerStats') {
    const records = server.signalling.room(message.room ?? '')?.media.producerList() ?? [];
    void Promise.all(records.map((r) => r.producer.getStats())).then((stats) => process.send?.({ type: 'producerStats', stats: stats.flat() }));
  }
  if (message.type === 'routers') {
    process.send?.({ type: 'routers', loads: server.signalling.room(message.room ?? '')?.media.routerLoads() ?? {} });
  }
});
process.send?.({
  type: 'ready',
  url: server.url,
  pid: process.pid,
  workerPids: server.pool.all().map((slot) => slot.worker.pid),
  listenIp: config.media.listenIp,
});
