import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where scripts/build-mediasoup-worker.sh links the binary it built or found in its cache. */
export const PROJECT_WORKER_LINK = path.join(projectRoot, '.worker', 'mediasoup-worker');

/**
 * Picks the mediasoup worker binary and tells mediasoup through MEDIASOUP_WORKER_BIN, which
 * mediasoup reads once, when it is first imported: call this before importing mediasoup.
 * Order: configured path, the project's offline build, else mediasoup's own (prebuilt) binary.
 */
export function selectWorkerBinary(configured?: string): string | undefined {
  const chosen = configured ?? (existsSync(PROJECT_WORKER_LINK) ? PROJECT_WORKER_LINK : undefined);
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`MEDIASOUP_WORKER_BIN: no file at ${chosen}`);
    process.env.MEDIASOUP_WORKER_BIN = chosen;
  }
  return chosen;
}
