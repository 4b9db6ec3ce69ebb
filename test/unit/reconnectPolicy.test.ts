import assert from 'node:assert/strict';
import { ICE_RESTART_BACKOFF, retryDelay, SERVER_RETRY_BACKOFF } from '../../web/src/rtc/reconnectPolicy.js';

describe('reconnect policy: backoff with jitter', () => {
  it('doubles from the base up to the cap', () => {
    const top = () => 0.999_999;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10, 1000].map((attempt) => retryDelay(attempt, SERVER_RETRY_BACKOFF, top)),
      [1000, 2000, 4000, 5000, 5000, 5000, 5000],
    );
    assert.equal(retryDelay(5, ICE_RESTART_BACKOFF, top), 4000);
  });

  it('spreads clients cut at the same moment over half the delay at least', () => {
    assert.equal(
      retryDelay(2, SERVER_RETRY_BACKOFF, () => 0),
      2000,
    );
    const delays = new Set(Array.from({ length: 50 }, () => retryDelay(3, SERVER_RETRY_BACKOFF)));
    assert.ok(delays.size > 10, 'random delays differ');
    for (const delay of delays) assert.ok(delay >= 2500 && delay <= 5000, `${delay} in [2.5 s, 5 s]`);
  });
});
