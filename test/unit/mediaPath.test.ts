import assert from 'node:assert/strict';
import { selectedMediaPath } from '../../web/src/rtc/mediaPath.js';

/** A stats report as the browser gives it: stats by id. */
function report(...stats: Record<string, unknown>[]): Map<string, unknown> {
  return new Map(stats.map((stat) => [String(stat.id), stat]));
}

const pair = (id: string, local: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'candidate-pair',
  localCandidateId: local,
  remoteCandidateId: 'remote',
  ...extra,
});
const candidate = (id: string, candidateType: string, protocol: string) => ({
  id,
  type: 'local-candidate',
  candidateType,
  protocol,
});

describe('media path (the connection indicator)', () => {
  it('reads the pair the transport selected: host UDP, host TCP, or relayed through TURN', () => {
    const transport = { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' };
    const others = [pair('P1', 'L1'), candidate('L1', 'relay', 'udp')];
    assert.equal(
      selectedMediaPath(report(transport, ...others, pair('P2', 'L2'), candidate('L2', 'host', 'udp'))),
      'direct-udp',
    );
    assert.equal(
      selectedMediaPath(report(transport, ...others, pair('P2', 'L2'), candidate('L2', 'host', 'tcp'))),
      'direct-tcp',
    );
    // A relayed pair's local candidate protocol is the relay's (UDP) even when the browser reaches TURN over TLS.
    assert.equal(
      selectedMediaPath(
        report(transport, pair('P2', 'L2'), candidate('L2', 'relay', 'udp'), candidate('L1', 'host', 'udp')),
      ),
      'relayed',
    );
  });

  it('reads Firefox’s own mark on the selected pair', () => {
    assert.equal(
      selectedMediaPath(
        report(
          pair('P1', 'L1'),
          candidate('L1', 'host', 'udp'),
          pair('P2', 'L2', { selected: true }),
          candidate('L2', 'relay', 'udp'),
        ),
      ),
      'relayed',
    );
  });

  it('says nothing while no pair is selected', () => {
    assert.equal(selectedMediaPath(undefined), undefined);
    assert.equal(selectedMediaPath(report(pair('P1', 'L1'), candidate('L1', 'host', 'udp'))), undefined);
    assert.equal(selectedMediaPath(report({ id: 'T', type: 'transport' }, pair('P1', 'L1'))), undefined);
  });
});
