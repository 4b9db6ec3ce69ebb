import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from '../observability/logger.js';
import { MediaObjectCounter } from './mediaObjectCounts.js';
import { kernelUdpBufferCaps, type UdpBufferSizes, udpBufferSizes } from './udpBuffers.js';
import { selectWorkerBinary } from './workerBinary.js';

export interface WorkerPoolOptions {
  workers: number;
  listenIp: string;
  announcedAddress?: string;
  /** Worker i listens on portBase + i, UDP and TCP: the whole firewall opening. */
  portBase: number;
  workerBin?: string;
  /** RELAIS_UDP_BUFFER_BYTES: each worker's UDP socket buffers, and the room's pipes'; 0 = the kernel's default. */
  udpBufferBytes?: number;
  logger: Logger;
}

export interface PooledWorker {
  readonly index: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  /** Consumers + producers placed on this worker, to pick the least loaded one. Changed by the pool only. */
  readonly load: number;
}

/** The pool's own, writable view of a worker: only `addLoad` changes `load`. */
type Slot = { -readonly [K in keyof PooledWorker]: PooledWorker[K] };

type Mediasoup = typeof import('mediasoup');

/**
 * One mediasoup worker per core, each with one WebRtcServer. A worker that dies is logged
 * and replaced on the same ports; owners of routers on it hear `workerDied`.
 */
export class WorkerPool extends EventEmitter<{ workerDied: [index: number]; workerReplaced: [index: number] }> {
  private readonly slots: (Slot | undefined)[] = [];
  /** Routers, transports, producers and consumers alive on this node's workers. */
  readonly objects = new MediaObjectCounter();
  private mediasoup: Mediasoup | undefined;
  private closed = false;

  /** Buffer sizes for every UDP socket on this node's workers (WebRtcServers and pipe transports). */
  readonly udpBuffers: UdpBufferSizes;

  constructor(private readonly options: WorkerPoolOptions) {
    super();
    this.udpBuffers = udpBufferSizes(options.udpBufferBytes ?? 0);
  }

  async start(): Promise<void> {
    const bin = selectWorkerBinary(this.options.workerBin);
    this.mediasoup = await import('mediasoup');
    this.options.logger.info(
      { workers: this.options.workers, workerBin: bin ?? 'mediasoup default', version: this.mediasoup.version },
      'starting mediasoup workers',
    );
    this.warnIfKernelCapsBuffers();
    for (let index = 0; index < this.options.workers; index++) {
      this.slots[index] = await this.spawn(index);
    }
  }

  get size(): number {
    return this.slots.filter(Boolean).length;
  }

  get ready(): boolean {
    return !this.closed && this.size === this.options.workers;
  }

  all(): PooledWorker[] {
    return this.slots.filter((slot): slot is Slot => slot !== undefined);
  }

  at(index: number): PooledWorker | undefined {
    return this.slots[index];
  }

  /** Where a new room's origin router goes. */
  leastLoaded(): PooledWorker {
    const best = this.all().reduce<PooledWorker | undefined>((a, b) => (!a || b.load < a.load ? b : a), undefined);
    if (!best) throw new Error('no mediasoup worker is running');
    return best;
  }

  /**
   * A producer or consumer placed on (`amount` > 0) or gone from (`amount` < 0) this worker. A
   * worker that died and was replaced keeps no count: its successor starts from zero.
   */
  addLoad(worker: PooledWorker, amount: number): void {
    const slot = this.slots[worker.index];
    if (slot === worker) slot.load += amount;
  }

  /** The kernel silently grants less than asked: say so once, with the setting that fixes it. */
  private warnIfKernelCapsBuffers(): void {
    const wanted = this.options.udpBufferBytes ?? 0;
    const { rmemMax, wmemMax } = kernelUdpBufferCaps();
    if (wanted > 0 && rmemMax !== undefined && wmemMax !== undefined && Math.min(rmemMax, wmemMax) < wanted)
      this.options.logger.warn(
        { wanted, rmemMax, wmemMax },
        `the kernel caps UDP socket buffers below RELAIS_UDP_BUFFER_BYTES: large rooms may lose packets; raise them with sysctl -w net.core.rmem_max=${wanted} net.core.wmem_max=${wanted}`,
      );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const slot of this.all()) slot.worker.close();
    this.slots.length = 0;
  }

  private async spawn(index: number): Promise<Slot> {
    if (!this.mediasoup) throw new Error('WorkerPool.start() first');
    const logger = this.options.logger.child({ worker: index });
    const worker = await this.mediasoup.createWorker({ logLevel: 'warn', appData: { index } });
    this.objects.watch(worker);
    const port = this.options.portBase + index;
    const listen = {
      ip: this.options.listenIp,
      port,
      ...(this.options.announcedAddress ? { announcedAddress: this.options.announcedAddress } : {}),
    };
    const webRtcServer = await worker.createWebRtcServer({
      listenInfos: [
        { protocol: 'udp', ...listen, ...this.udpBuffers },
        { protocol: 'tcp', ...listen },
      ],
    });
    const slot: Slot = { index, worker, webRtcServer, load: 0 };
    worker.on('died', (error) => {
      logger.fatal({ err: error, pid: worker.pid }, 'mediasoup worker died; replacing it');
      if (this.slots[index] === slot) this.slots[index] = undefined;
      this.emit('workerDied', index);
      if (!this.closed) void this.replace(index, logger);
    });
    logger.info({ pid: worker.pid, port, udp: true, tcp: true }, 'mediasoup worker ready');
    return slot;
  }

  private async replace(index: number, logger: Logger, attempt = 1): Promise<void> {
    // Give the kernel a moment to release the dead worker's ports.
    await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * attempt)));
    if (this.closed) return;
    try {
      this.slots[index] = await this.spawn(index);
      this.emit('workerReplaced', index);
    } catch (error) {
      logger.error({ err: error, attempt }, 'could not replace mediasoup worker; retrying');
      if (attempt < 20) await this.replace(index, logger, attempt + 1);
    }
  }
}
