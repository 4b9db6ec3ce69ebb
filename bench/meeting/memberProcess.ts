/**
 * A child of the crisis-meeting benchmark holding a share of the members, so that the members'
 * packet handling (JavaScript and libdatachannel's threads) spreads over the machine's cores
 * instead of saturating one process. Driven by run.ts over the fork IPC channel:
 *   parent → { type: 'join', url, members: [{ id, token }], toneHz }  child → { type: 'published', published, errors }
 *   parent → { type: 'receive', published }                            child → { type: 'receiving', errors }
 *   parent → { type: 'counts' }                                        child → { type: 'counts', counts }
 *   parent → { type: 'stop' } (speakers stop; the loss window ends)    child → { type: 'stopped' }
 *   parent → { type: 'report' }                                        child → { type: 'report', reports, cpuSeconds, socketDrops }
 *   parent → { type: 'close' }
 */
import { encodeTone } from '../load/opusTone.js';
import { OpusSpeaker } from '../load/opusSpeaker.js';
import { boundedConcurrency } from '../load/peers.js';
import { udpReceiveDrops } from '../load/procStat.js';
import { MeetingMember, type MemberCounts } from './MeetingMember.js';

export interface PublishedMember {
  id: number;
  audio: string;
  camera: string | undefined;
}

type Message =
  | { type: 'join'; url: string; members: { id: number; token: string }[]; toneHz: number }
  | { type: 'receive'; published: PublishedMember[] }
  | { type: 'counts' }
  | { type: 'stop' }
  | { type: 'report' }
  | { type: 'close' };

const members: MeetingMember[] = [];
/** Errors of the step under way (join, receive), sent with its reply. */
let errors: Record<string, number> = {};
let stoppedAt: number | undefined;
/** CPU from the join on (the start-up's module loading is not the members'). */
let cpuAtStart = process.cpuUsage();
const send = (message: unknown): void => {
  process.send?.(message);
};
const fail = (error: unknown): void => {
  const message = (error as Error).message;
  errors[message] = (errors[message] ?? 0) + 1;
};
const closeAll = (): void => {
  for (const m of members) m.close();
};

// Never outlive the benchmark, whatever happens to it.
process.on('disconnect', () => {
  closeAll();
  process.exit(0);
});

async function join(url: string, joining: { id: number; token: string }[], toneHz: number): Promise<void> {
  errors = {};
  cpuAtStart = process.cpuUsage();
  const tone = encodeTone(toneHz);
  await boundedConcurrency(joining, 5, async ({ id, token }) => {
    try {
      members.push(new MeetingMember(id, await OpusSpeaker.start(url, token, tone, { video: true })));
    } catch (error) {
      fail(error);
    }
  });
  const published: PublishedMember[] = members.map((m) => ({
    id: m.id,
    audio: m.speaker.producerId,
    camera: m.speaker.video?.producerId,
  }));
  send({ type: 'published', published, errors });
}

async function receive(published: PublishedMember[]): Promise<void> {
  errors = {};
  await boundedConcurrency(members, 5, async (member) => {
    const others = published.filter((p) => p.id !== member.id);
    const producers = others.flatMap((p) => [
      { producerId: p.audio, kind: 'audio' as const },
      ...(p.camera ? [{ producerId: p.camera, kind: 'video' as const }] : []),
    ]);
    // The grid's large tile: the next member's camera.
    const high = others.find((p) => p.id > member.id)?.camera ?? others[0]?.camera;
    await member.receive(producers, high).catch(fail);
  });
  send({ type: 'receiving', errors });
}

process.on('message', (message: Message) => {
  switch (message.type) {
    case 'join':
      void join(message.url, message.members, message.toneHz);
      break;
    case 'receive':
      void receive(message.published);
      break;
    case 'counts': {
      const counts: MemberCounts = { audio: 0, video: 0, bytes: 0 };
      for (const m of members) {
        const c = m.counts();
        counts.audio += c.audio;
        counts.video += c.video;
        counts.bytes += c.bytes;
      }
      send({ type: 'counts', counts });
      break;
    }
    case 'stop':
      for (const m of members) m.speaker.stop();
      stoppedAt = performance.now();
      send({ type: 'stopped' });
      break;
    case 'report': {
      const cpu = process.cpuUsage(cpuAtStart);
      send({
        type: 'report',
        reports: members.map((m) => m.report(stoppedAt)),
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        socketDrops: udpReceiveDrops([process.pid]),
      });
      break;
    }
    case 'close':
      closeAll();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
send({ type: 'ready' });
