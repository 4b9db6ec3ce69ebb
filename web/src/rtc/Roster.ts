/**
 * Who is in the room, as this client knows it: the one list the meeting view and the
 * moderator's panel both read. Fed by the client's events: a join result (at first and after
 * each reconnect) replaces it, participants joining, leaving and changing update it, and a
 * listener's room summary (which names only the people on stage) replaces it too.
 */
import type { ParticipantView } from '../../../server/src/signalling/catalog.js';
import type { ConferenceClient } from './ConferenceClient.js';
import { TypedEmitter } from './TypedEmitter.js';

export interface RoomCounts {
  participants: number;
  handsRaised: number;
}

type RosterEvents = {
  /** Someone is now on the list: `live` when they just joined, not when a join result or summary lists them. */
  arrived: [participant: ParticipantView, live: boolean];
  changed: [participant: ParticipantView, before: ParticipantView, live: boolean];
  /** Someone is off the list: `live` when they left, not when a new list no longer has them. */
  departed: [participant: ParticipantView, live: boolean];
  /** A whole list (join result or summary) was applied. */
  synced: [];
  /** A listener's counts of the whole room, from the summary. */
  counted: [counts: RoomCounts];
};

export class Roster extends TypedEmitter<RosterEvents> {
  private readonly people = new Map<string, ParticipantView>();
  private selfId: string | undefined;
  private readonly unsubscribe: (() => void)[];

  constructor(client: ConferenceClient) {
    super();
    this.unsubscribe = [
      client.on('joined', (result) => {
        this.selfId = result.self.id;
        this.replace([result.self, ...result.participants]);
      }),
      // A new role that sees the whole list brings it.
      client.on('roleChanged', (change) => {
        if (change.participants) this.replace([change.self, ...change.participants]);
        else this.upsert(change.self, true);
      }),
      client.on('participantJoined', (p) => this.upsert(p, true)),
      client.on('participantUpdated', (p) => this.upsert(p, true)),
      client.on('participantLeft', (id) => this.remove(id, true)),
      client.on('roomSummary', (summary) => {
        const self = this.selfId === undefined ? undefined : this.people.get(this.selfId);
        const onStage = summary.speakers.filter((p) => p.id !== this.selfId);
        this.replace(self ? [self, ...onStage] : onStage);
        this.emit('counted', { participants: summary.participants, handsRaised: summary.handsRaised });
      }),
    ];
  }

  get(id: string): ParticipantView | undefined {
    return this.people.get(id);
  }

  all(): ParticipantView[] {
    return [...this.people.values()];
  }

  get size(): number {
    return this.people.size;
  }

  /** Our own hand, raised or lowered from this page: listeners are not sent their own updates. */
  setOwnHand(raised: boolean): void {
    const self = this.selfId === undefined ? undefined : this.people.get(this.selfId);
    if (self && self.handRaised !== raised) this.upsert({ ...self, handRaised: raised }, true);
  }

  dispose(): void {
    for (const off of this.unsubscribe) off();
  }

  private replace(list: ParticipantView[]): void {
    const present = new Set(list.map((p) => p.id));
    for (const id of [...this.people.keys()]) if (!present.has(id)) this.remove(id, false);
    for (const p of list) this.upsert(p, false);
    this.emit('synced');
  }

  private upsert(p: ParticipantView, live: boolean): void {
    const before = this.people.get(p.id);
    this.people.set(p.id, p);
    if (before) this.emit('changed', p, before, live);
    else this.emit('arrived', p, live);
  }

  private remove(id: string, live: boolean): void {
    const p = this.people.get(id);
    if (!p) return;
    this.people.delete(id);
    this.emit('departed', p, live);
  }
}
