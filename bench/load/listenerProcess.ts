/**
 * A child of the load generator holding a share of the listeners, so that the generator can
 * use more than one core. Talks to its parent over the fork IPC channel:
 *   parent → { type: 'plan', plan } | { type: 'speakerStopped' } | { type: 'counts' } | { type: 'report' } | { type: 'close' }
 *   child  → { type: 'joined' } | { type: 'counts', counts } | { type: 'report', report }
 */
import { ListenerGroup, type GroupPlan } from './listenerGroup.js';

type Message =
  | { type: 'plan'; plan: GroupPlan }
  | { type: 'speakerStopped' }
  | { type: 'counts' }
  | { type: 'report' }
  | { type: 'close' };

let group: ListenerGroup | undefined;
const send = (message: unknown): void => {
  process.send?.(message);
};

// Never outlive the parent, whatever happens to it.
process.on('disconnect', () => {
  group?.close();
  process.exit(0);
});

process.on('message', (message: Message) => {
  switch (message.type) {
    case 'plan':
      group = new ListenerGroup(message.plan);
      void group.run().then(() => send({ type: 'joined' }));
      break;
    case 'speakerStopped':
      group?.speakerStopped();
      break;
    case 'counts':
      send({ type: 'counts', counts: group?.counts() ?? { audio: 0, video: 0 } });
      break;
    case 'report':
      if (group) send({ type: 'report', report: group.report() });
      break;
    case 'close':
      group?.close();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
send({ type: 'ready' });
