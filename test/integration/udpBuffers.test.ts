import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePortRange } from '../../tools/freePorts.js';
import { startRelaisProcess } from '../support/relaisProcess.js';

/** The receive buffer the kernel gave the UDP socket bound to `port` (ss's skmem `rb`). */
function receiveBufferOf(port: number): number {
  const out = execFileSync('ss', ['-uamnH', `sport = :${port}`]).toString();
  const match = /\brb(\d+)/.exec(out);
  assert.ok(match?.[1], `no UDP socket on port ${port}: ${out}`);
  return Number(match[1]);
}
const kernel = (name: string): number => Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());

describe('UDP socket buffers of the workers (RELAIS_UDP_BUFFER_BYTES)', function () {
  this.timeout(60_000);

  it('the worker’s media socket gets the configured receive buffer, within the kernel’s cap', async () => {
    const rtc = await freePortRange(1);
    const wanted = 1024 * 1024;
    const node = await startRelaisProcess({ RELAIS_UDP_BUFFER_BYTES: String(wanted) }, { rtc });
    try {
      // Linux doubles what SO_RCVBUF asks for (bookkeeping overhead), capped at rmem_max first.
      assert.equal(receiveBufferOf(rtc), 2 * Math.min(wanted, kernel('rmem_max')));
    } finally {
      await node.stop();
    }
  });

  it('0 leaves the kernel’s default', async () => {
    const rtc = await freePortRange(1);
    const node = await startRelaisProcess({ RELAIS_UDP_BUFFER_BYTES: '0' }, { rtc });
    try {
      assert.equal(receiveBufferOf(rtc), kernel('rmem_default'));
    } finally {
      await node.stop();
    }
  });
});
