import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../server/src/config/config.js';

describe('cluster configuration', () => {
  it('defaults to no cluster key, loopback, ports 41000-41999, no node capacity limit', () => {
    const { cluster } = loadConfig({});
    assert.deepEqual(cluster, {
      address: '127.0.0.1',
      pipePorts: { min: 41000, max: 41999 },
      capacity: 0,
      drain: { timeoutSeconds: 300, ratePerSecond: 50 },
    });
  });

  it('reads the cluster variables and names the bad one', () => {
    const { cluster } = loadConfig({
      RELAIS_CLUSTER_SECRET: 's'.repeat(32),
      RELAIS_CLUSTER_ADDRESS: '10.0.0.5',
      RELAIS_PIPE_PORT_MIN: '45000',
      RELAIS_PIPE_PORT_MAX: '45099',
      RELAIS_NODE_MAX_PARTICIPANTS: '250',
      RELAIS_DRAIN_TIMEOUT: '60',
      RELAIS_DRAIN_RATE: '5',
    });
    assert.deepEqual(cluster, {
      secret: 's'.repeat(32),
      address: '10.0.0.5',
      pipePorts: { min: 45000, max: 45099 },
      capacity: 250,
      drain: { timeoutSeconds: 60, ratePerSecond: 5 },
    });
    assert.throws(() => loadConfig({ RELAIS_CLUSTER_SECRET: 'short' }), /RELAIS_CLUSTER_SECRET.*32/);
    assert.throws(() => loadConfig({ RELAIS_CLUSTER_ADDRESS: 'node-a.local' }), /RELAIS_CLUSTER_ADDRESS/);
    assert.throws(() => loadConfig({ RELAIS_PIPE_PORT_MAX: '70000' }), /RELAIS_PIPE_PORT_MAX/);
    assert.throws(
      () => loadConfig({ RELAIS_PIPE_PORT_MIN: '45100', RELAIS_PIPE_PORT_MAX: '45000' }),
      (e: Error) => e instanceof ConfigError && /RELAIS_PIPE_PORT_MIN/.test(e.message),
    );
  });
});
