/**
 * Opens a live room: resolves once its media is ready. The room calls `closed` when it closes,
 * so the registry forgets it.
 */
export type OpenRoom<R> = (roomId: string, closed: () => void) => Promise<R>;

/**
 * The one registry of the rooms live on this server. A room is opened by its first visitor;
 * visitors arriving while it opens share the same opening, and an opening that fails is
 * forgotten so the next visitor tries again.
 */
export class LiveRooms<R> {
  private readonly opening = new Map<string, Promise<R>>();
  private readonly live = new Map<string, R>();

  constructor(private readonly open: OpenRoom<R>) {}

  get size(): number {
    return this.live.size;
  }

  get(roomId: string): R | undefined {
    return this.live.get(roomId);
  }

  all(): R[] {
    return [...this.live.values()];
  }

  /** The live room or the one being opened, without opening one. */
  whenOpen(roomId: string): Promise<R> | undefined {
    const live = this.live.get(roomId);
    return live ? Promise.resolve(live) : this.opening.get(roomId);
  }

  /** The live room, opened on first use. */
  getOrOpen(roomId: string): Promise<R> {
    const live = this.live.get(roomId);
    if (live) return Promise.resolve(live);
    let pending = this.opening.get(roomId);
    if (!pending) {
      let room: R | undefined;
      pending = this.open(roomId, () => {
        // A later room with the same id is not this one: only forget ourselves.
        if (room && this.live.get(roomId) === room) this.live.delete(roomId);
      }).then(
        (opened) => {
          room = opened;
          this.live.set(roomId, opened);
          this.opening.delete(roomId);
          return opened;
        },
        (error: unknown) => {
          this.opening.delete(roomId);
          throw error;
        },
      );
      this.opening.set(roomId, pending);
    }
    return pending;
  }
}
