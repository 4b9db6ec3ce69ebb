/**
 * The baseline: bare mediasoup, no relais. The same workers (one WebRtcServer each, on
 * loopback), the same fan-out (an origin router, further routers fed by pipeToRouter once a
 * router carries BARE_CONSUMERS_PER_ROUTER consumers, listeners on the lightest router), and
 * just enough Socket.IO to let the same load generator in: no auth, no validation, no room
 * model, no notifications. What relais costs is the difference.
 */
import type { types } from 'mediasoup';
import { Server } from 'socket.io';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { selectWorkerBinary } from '../../server/src/media/workerBinary.js';
import { MEDIA_CODECS } from '../../server/src/media/mediaCodecs.js';
import { DEFAULT_KEYFRAME_REQUEST_DELAY_MS } from '../../server/src/media/keyFrameRequests.js';
import { DEFAULT_UDP_BUFFER_BYTES, udpBufferSizes } from '../../server/src/media/udpBuffers.js';
import type { RequestName, RequestPayload } from '../../server/src/signalling/catalog.js';

selectWorkerBinary(process.env.MEDIASOUP_WORKER_BIN);
const mediasoup = await import('mediasoup');

const workers = Number(process.env.RELAIS_WORKERS ?? '2');
const portBase = Number(process.env.RELAIS_RTC_PORT_BASE ?? '47000');
const perRouter = Number(process.env.BARE_CONSUMERS_PER_ROUTER ?? '250');
// The same socket buffers as relais (RELAIS_UDP_BUFFER_BYTES, 4 MiB by default): what a tuned
// mediasoup deployment sets too, so that the comparison is not about the kernel's default.
const buffers = udpBufferSizes(Number(process.env.RELAIS_UDP_BUFFER_BYTES ?? DEFAULT_UDP_BUFFER_BYTES));
// Keyframe requests merged as relais merges them (RELAIS_KEYFRAME_REQUEST_DELAY_MS), for the same reason.
const keyFrameRequestDelay = Number(process.env.RELAIS_KEYFRAME_REQUEST_DELAY_MS ?? DEFAULT_KEYFRAME_REQUEST_DELAY_MS);

interface Slot {
  worker: types.Worker;
  server: types.WebRtcServer;
  router: types.Router | undefined;
  consumers: number;
  piped: Map<string, Promise<unknown>>;
}
async function openSlot(index: number): Promise<Slot> {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const listen = { ip: '127.0.0.1', port: portBase + index };
  const server = await worker.createWebRtcServer({
    listenInfos: [
      { protocol: 'udp', ...listen, ...buffers },
      { protocol: 'tcp', ...listen },
    ],
  });
  return { worker, server, router: undefined, consumers: 0, piped: new Map() };
}
const origin = await openSlot(0);
const slots: Slot[] = [origin];
for (let i = 1; i < workers; i++) slots.push(await openSlot(i));
/** Where producers live, as a room's origin router in relais. */
const originRouter = await origin.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
origin.router = originRouter;
const producers = new Map<string, types.Producer>();

/** The router of a slot a transport was placed on (placement opens it first). */
function routerOf(slot: Slot): types.Router {
  if (!slot.router) throw new Error(`worker ${slots.indexOf(slot)} has no router`);
  return slot.router;
}

async function routerForReceiver(): Promise<Slot> {
  const open = slots.filter((s) => s.router);
  const lightest = open.reduce((a, b) => (b.consumers < a.consumers ? b : a));
  const next = slots.find((s) => !s.router);
  if (lightest.consumers < perRouter || !next) return lightest;
  next.router = await next.worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  return next;
}

const httpServer = http.createServer();
const io = new Server(httpServer, { serveClient: false, pingInterval: 10_000, pingTimeout: 10_000 });
io.on('connection', (socket) => {
  let caps: types.RtpCapabilities | undefined;
  const transports = new Map<string, { transport: types.WebRtcTransport; slot: Slot; direction: 'send' | 'recv' }>();
  const consumers = new Map<string, { consumer: types.Consumer; slot: Slot }>();
  const transportOf = (id: string): types.WebRtcTransport => {
    const entry = transports.get(id);
    if (!entry) throw new Error(`unknown transport ${id}`);
    return entry.transport;
  };
  // The catalog's requests, typed as the load generator sends them, so that a renamed field fails the
  // typecheck here too; taken as sent, without relais's validation (that is part of what is compared).
  const handle = <N extends RequestName>(name: N, fn: (payload: RequestPayload<N>) => Promise<unknown>): void => {
    socket.on(name as string, (payload: RequestPayload<N>, ack: (r: unknown) => void) => {
      fn(payload).then(
        (data) => ack({ ok: true, data }),
        (error: Error) => ack({ ok: false, error: { code: 'INTERNAL', message: error.message } }),
      );
    });
  };
  handle('getRouterRtpCapabilities', async () => ({ rtpCapabilities: originRouter.rtpCapabilities }));
  handle('join', async (p) => {
    caps = p.rtpCapabilities as types.RtpCapabilities;
    return {
      producers: [...producers.values()].map((pr) => ({ producerId: pr.id, kind: pr.kind, source: pr.appData.source })),
    };
  });
  handle('createTransport', async (p) => {
    const slot = p.direction === 'send' ? origin : await routerForReceiver();
    const transport = await routerOf(slot).createWebRtcTransport({
      webRtcServer: slot.server,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
    });
    transports.set(transport.id, { transport, slot, direction: p.direction });
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  });
  handle('connectTransport', async (p) => {
    await transportOf(p.transportId).connect({ dtlsParameters: p.dtlsParameters as types.DtlsParameters });
    return {};
  });
  handle('produce', async (p) => {
    const producer = await transportOf(p.transportId).produce({
      kind: p.kind,
      rtpParameters: p.rtpParameters as types.RtpParameters,
      ...(p.kind === 'video' ? { keyFrameRequestDelay } : {}),
      appData: { source: p.source },
    });
    producers.set(producer.id, producer);
    return { producerId: producer.id };
  });
  handle('consume', async (p) => {
    const { producerId } = p;
    const recv = [...transports.values()].find((t) => t.direction === 'recv');
    if (!recv) throw new Error('no receive transport');
    const { transport, slot } = recv;
    if (slot !== origin) {
      // Once per router, and every consumer there waits for the same pipe.
      let pipe = slot.piped.get(producerId);
      if (!pipe) {
        pipe = originRouter.pipeToRouter({
          producerId,
          router: routerOf(slot),
          listenInfo: { protocol: 'udp', ip: '127.0.0.1', ...buffers },
        });
        slot.piped.set(producerId, pipe);
      }
      await pipe;
    }
    if (!caps) throw new Error('consume before join');
    // As relais: video starts at the lowest simulcast layer.
    const consumer = await transport.consume({
      producerId,
      rtpCapabilities: caps,
      paused: true,
      ...(producers.get(producerId)?.kind === 'video'
        ? { preferredLayers: { spatialLayer: 0, temporalLayer: 2 } }
        : {}),
    });
    consumers.set(consumer.id, { consumer, slot });
    slot.consumers += 1;
    return { consumerId: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
  });
  handle('resumeConsumer', async (p) => {
    const entry = consumers.get(p.consumerId);
    if (!entry) throw new Error(`unknown consumer ${p.consumerId}`);
    await entry.consumer.resume();
    return {};
  });
  handle('setConsumerLayers', async (p) => {
    const entry = consumers.get(p.consumerId);
    if (!entry) throw new Error(`unknown consumer ${p.consumerId}`);
    await entry.consumer.setPreferredLayers({
      spatialLayer: p.spatialLayer,
      ...(p.temporalLayer !== undefined ? { temporalLayer: p.temporalLayer } : {}),
    });
    return {};
  });
  socket.on('disconnect', () => {
    for (const { slot } of consumers.values()) slot.consumers -= 1;
    for (const { transport } of transports.values()) transport.close();
  });
});
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

const stop = (): void => {
  for (const slot of slots) slot.worker.close();
  void io.close();
  process.exit(0);
};
process.on('disconnect', stop);
process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') stop();
  if (message.type === 'producerStats') {
    void Promise.all([...producers.values()].map((p) => p.getStats())).then((stats) =>
      process.send?.({ type: 'producerStats', stats: stats.flat() }),
    );
  }
  if (message.type === 'routers') {
    const loads: Record<number, number> = {};
    slots.forEach((s, i) => {
      if (s.router) loads[i] = s.consumers;
    });
    process.send?.({ type: 'routers', loads });
  }
});
process.send?.({
  type: 'ready',
  url,
  pid: process.pid,
  workerPids: slots.map((s) => s.worker.pid),
  listenIp: '127.0.0.1',
});
