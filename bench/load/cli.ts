/**
 * npm run load -- --listeners N --ramp-seconds S --concurrency C --duration-seconds D
 *                 [--url http://127.0.0.1:PORT --room R --secret S] [--processes P] [--decode-sample K] [--json FILE]
 *                 [--video] [--lean]
 *
 * Without --url it starts relais in this process (RELAIS_WORKERS workers, default 2) on free
 * loopback ports. --video makes the speaker a video commander (camera in three simulcast layers)
 * whose lowest layer each listener takes too; --lean gives the listeners the first benchmarks'
 * capabilities (Opus only, no RTCP). It targets loopback only, and stops by itself. --json writes the summary to
 * FILE and each listener's report gzip-compressed beside it (FILE's name + .listeners.json.gz).
 */
import { parseArgs } from 'node:util';
import { startLocalRelais } from '../../tools/localRelais.js';
import { mintTestToken } from '../../tools/testTokens.js';
import { runLoad } from './LoadGenerator.js';
import { writeResults } from './resultFiles.js';

const { values } = parseArgs({
  options: {
    listeners: { type: 'string', default: '50' },
    'ramp-seconds': { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '10' },
    'duration-seconds': { type: 'string', default: '20' },
    url: { type: 'string' },
    room: { type: 'string', default: 'briefing-load' },
    secret: { type: 'string', default: process.env.RELAIS_JWT_SECRET },
    processes: { type: 'string' },
    'decode-sample': { type: 'string', default: '5' },
    json: { type: 'string' },
    video: { type: 'boolean', default: false },
    lean: { type: 'boolean', default: false },
  },
});

const int = (name: string, value: string | undefined, min: number, max: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer within ${min}..${max}`);
  return n;
};

const listeners = int('listeners', values.listeners, 1, 5000);
const room = values.room;
let stop = async (): Promise<void> => undefined;
let url: string;
let token: (role: 'speaker' | 'listener', sub: string) => string;
if (values.url) {
  if (!values.secret) throw new Error('--secret (or RELAIS_JWT_SECRET) is needed to mint tokens for --url');
  url = values.url;
  const key = { algorithm: 'HS256' as const, key: values.secret };
  token = (role, sub) => mintTestToken(key, { room, role, sub, name: sub });
} else {
  const server = await startLocalRelais(
    { RELAIS_WORKERS: process.env.RELAIS_WORKERS ?? '2', RELAIS_LOG_LEVEL: 'warn' },
    { logs: 'stderr' },
  );
  url = server.url;
  token = (role, sub) => server.token({ room, role, sub, name: sub });
  stop = () => server.stop();
  console.error(`started relais in-process at ${url}`);
}

// Hard stop: whatever happens, the generator ends.
const rampSeconds = int('ramp-seconds', values['ramp-seconds'], 0, 3600);
const durationSeconds = int('duration-seconds', values['duration-seconds'], 1, 3600);
const deadline = setTimeout(
  () => {
    console.error('load generator: hard deadline reached, exiting');
    process.exit(2);
  },
  (rampSeconds + durationSeconds + 180) * 1000,
);
deadline.unref();

try {
  const result = await runLoad({
    url,
    listeners,
    rampSeconds,
    concurrency: int('concurrency', values.concurrency, 1, 500),
    durationSeconds,
    processes: int('processes', values.processes ?? String(Math.ceil(listeners / 300)), 0, 16),
    decodeSample: int('decode-sample', values['decode-sample'], 0, 100),
    video: values.video,
    fidelity: values.lean ? 'lean' : 'chrome',
    token,
    log: (line) => console.error(line),
  });
  const { perListener, ...summary } = result;
  console.log(JSON.stringify(summary, null, 2));
  if (values.json) {
    const written = writeResults(values.json, summary, perListener);
    console.error(`wrote ${written.summaryFile}${written.detailFile ? ` and ${written.detailFile}` : ''}`);
  }
} finally {
  await stop();
}
process.exit(0);
