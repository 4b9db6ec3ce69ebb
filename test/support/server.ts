import { type LocalRelais, startLocalRelais } from '../../tools/localRelais.js';

export type TestServer = LocalRelais;

/** The real server (real mediasoup workers) in-process, on free ports, logs captured. */
export function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startLocalRelais(env, { logs: 'capture' });
}
