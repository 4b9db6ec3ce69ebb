/**
 * relais on its own, in a child of the benchmark, so that its CPU (the Node process and
 * every worker) is measured apart from the load generator's. Tells its parent over IPC:
 * { type: 'ready', url, pid, workerPids, consumersPerRouter } ; answers { type: 'routers' } with
 * the room's router loads; exits on { type: 'stop' } or when the parent goes away.
 */
import { loadConfig } from '../../server/src/config/config.js';
import { selectWorkerBinary } from '../../server/src/media/workerBinary.js';
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
// Watch every transport's ICE state from outside relais: a transport whose consent lapses
// drops media, and the benchmark should say so rather than only count the loss.
selectWorkerBinary(config.media.workerBin);
const mediasoup = await import('mediasoup');
const consumers = new Set<import('mediasoup').types.Consumer>();
const iceEvents: { state: string; direction: unknown; at: number }[] = [];
mediasoup.observer.on('newworker', (worker) =>
  worker.observer.on('newrouter', (router) =>
    router.observer.on('newtransport', (transport) => {
      transport.observer.on('newconsumer', (consumer) => {
        consumers.add(consumer);
        consumer.observer.once('close', () => consumers.delete(consumer));
      });
      transport.on(
        'icestatechange' as never,
        ((state: string) => {
          if (state !== 'connected' && state !== 'completed' && iceEvents.length < 10_000) {
            iceEvents.push({ state, direction: transport.appData.direction, at: Date.now() });
          }
        }) as never,
      );
    }),
  ),
);
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
    void (async () => {
      const stats = (await Promise.all(records.map((r) => r.producer.getStats()))).flat();
      // What the SFU itself sent to listeners: RTP packets counted by each consumer's outbound stream.
      // In batches: one request at a time took over 30 s for 900 consumers on a saturated machine.
      let sfuSentPackets = 0;
      const open = [...consumers].filter((consumer) => !consumer.closed);
      for (let i = 0; i < open.length; i += 100) {
        const batch = await Promise.all(open.slice(i, i + 100).map((consumer) => consumer.getStats().catch(() => [])));
        for (const s of batch.flat()) if (s.type === 'outbound-rtp') sfuSentPackets += s.packetCount;
      }
      process.send?.({ type: 'producerStats', stats, iceEvents, sfuSentPackets });
    })();
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
