import type { types } from 'mediasoup';

/** Live mediasoup objects of this node, as operators (and tests) check that a closed room left none. */
export interface MediaObjectCounts {
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
}

/**
 * Counts what a worker creates, from mediasoup's own observer events: a count that returns to
 * zero proves every router, transport, producer and consumer was closed, whoever owned it.
 */
export class MediaObjectCounter {
  readonly counts: MediaObjectCounts = { routers: 0, transports: 0, producers: 0, consumers: 0 };

  watch(worker: types.Worker): void {
    worker.observer.on('newrouter', (router) => {
      this.track('routers', router.observer);
      router.observer.on('newtransport', (transport) => {
        this.track('transports', transport.observer);
        transport.observer.on('newproducer', (producer) => this.track('producers', producer.observer));
        transport.observer.on('newconsumer', (consumer) => this.track('consumers', consumer.observer));
      });
    });
  }

  private track(
    kind: keyof MediaObjectCounts,
    observer: { once(event: 'close', listener: () => void): unknown },
  ): void {
    this.counts[kind] += 1;
    observer.once('close', () => {
      this.counts[kind] -= 1;
    });
  }
}
