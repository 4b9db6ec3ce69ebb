import { LOCAL_SECRET, type LocalRelais, startLocalRelais } from '../../tools/localRelais.js';

/** The key the test server signs and verifies with (HS256), for tests that sign tokens of their own. */
export const TEST_SECRET = LOCAL_SECRET;

export type TestServer = LocalRelais;

/** The real server (real mediasoup workers) in-process, on free ports, logs captured. */
export function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startLocalRelais(env, { logs: 'capture' });
}
