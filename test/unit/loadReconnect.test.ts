import assert from 'node:assert/strict';
import { reconnectDelay, redirectOf, spread, within } from '../../bench/load/reconnect.js';
import { RequestFailed } from '../../server/src/signalling/catalogRequest.js';

describe('the load generator’s recovery helpers', () => {
  it('retries after a jittered delay doubling from 200 ms to 2 s', () => {
    for (let i = 0; i < 50; i++) {
      const first = reconnectDelay(0);
      assert.ok(first >= 100 && first <= 200, `${first}`);
      const late = reconnectDelay(10);
      assert.ok(late >= 1000 && late <= 2000, `${late}`);
    }
  });

  it('follows a REDIRECT refusal to the node it names, through the request’s wrapping', () => {
    const refusal = new RequestFailed({
      code: 'REDIRECT',
      message: 'draining',
      redirect: { node: 'node-2', url: 'http://127.0.0.1:4000' },
    });
    assert.equal(redirectOf(new Error('join: REDIRECT: draining', { cause: refusal })), 'http://127.0.0.1:4000');
    assert.equal(redirectOf(new RequestFailed({ code: 'UNAVAILABLE', message: 'Redis' })), undefined);
    assert.equal(redirectOf(new Error('socket closed')), undefined);
  });

  it('bounds a hung step, and sums up times as p50 / p95 / max', async () => {
    await assert.rejects(within(new Promise(() => undefined), 20, 'rejoin'), /rejoin timed out/);
    assert.equal(await within(Promise.resolve(7), 1000, 'x'), 7);
    assert.deepEqual(spread([100, 300, 200, 400]), { count: 4, p50: 200, p95: 400, max: 400 });
  });
});
