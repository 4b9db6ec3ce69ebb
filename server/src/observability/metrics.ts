import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { createWebhookMetrics } from '../webhooks/webhookMetrics.js';

/** Prometheus metrics of one relais process (served at /metrics). */
export class RelaisMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'relais_signalling_requests_total',
    help: 'Signalling requests handled, by request name and outcome (ok or error code).',
    labelNames: ['request', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly messagesSent = new Counter({
    name: 'relais_signalling_messages_sent_total',
    help: 'Socket.IO messages sent to clients (notifications and acknowledgements).',
    registers: [this.registry],
  });
  readonly joins = new Counter({
    name: 'relais_joins_total',
    help: 'Participants who joined a room.',
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'relais_auth_failures_total',
    help: 'Refused handshakes.',
    registers: [this.registry],
  });
  readonly workerDeaths = new Counter({
    name: 'relais_worker_deaths_total',
    help: 'mediasoup workers that died.',
    registers: [this.registry],
  });
  readonly rooms = new Gauge({ name: 'relais_rooms', help: 'Rooms with someone in them.', registers: [this.registry] });
  readonly participants = new Gauge({
    name: 'relais_participants',
    help: 'Participants in all rooms.',
    registers: [this.registry],
  });
  readonly pipes = new Gauge({
    name: 'relais_pipes',
    help: 'Node-to-node pipes: producers piped out to other nodes (out) and in from other nodes (in).',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly pipeTransports = new Gauge({
    name: 'relais_pipe_transports',
    help: 'Node-to-node pipe transports: serving other nodes (out) and receiving from them (in).',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly mediaObjects = new Gauge({
    name: 'relais_media_objects',
    help: 'Live mediasoup routers, transports, producers and consumers on this node (all back to 0 once rooms close).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly workers = new Gauge({
    name: 'relais_workers',
    help: 'Running mediasoup workers.',
    registers: [this.registry],
  });
  /** Webhook deliveries by receiver and outcome, retries (zero without RELAIS_WEBHOOK_URLS). */
  readonly webhooks = createWebhookMetrics(this.registry);
  /** Only on a clustered node (RELAIS_REDIS_URL): a single node has no Redis to be up or down. */
  readonly redisConnected: Gauge | undefined;

  constructor(options: { redis?: boolean } = {}) {
    // The event-loop delay is sampled every 100 ms, not prom-client's 10 ms: a 10 ms timer wakes the
    // process 100 times a second for nothing (measured: an idle node's main thread 6.5 → 2 ms CPU/s).
    collectDefaultMetrics({ register: this.registry, prefix: 'relais_', eventLoopMonitoringPrecision: 100 });
    this.redisConnected = options.redis
      ? new Gauge({
          name: 'relais_redis_connected',
          help: '1 while this node is connected to Redis, 0 while it is not.',
          registers: [this.registry],
        })
      : undefined;
  }
}
