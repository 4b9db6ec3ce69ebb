/** How the media flows, read from the selected ICE candidate pair: straight to the server, or through TURN. */
export type MediaPath = 'direct-udp' | 'direct-tcp' | 'relayed';

type Stat = Record<string, unknown>;

/**
 * The media path of a peer connection's stats report (`RTCStatsReport`, a map of stats by id):
 * the selected pair's local candidate is `relay` through TURN, otherwise its protocol says UDP
 * or TCP. Undefined while no pair is selected.
 */
export function selectedMediaPath(report: ReadonlyMap<string, unknown> | undefined): MediaPath | undefined {
  if (!report) return undefined;
  const stats = [...report.values()].filter((stat): stat is Stat => typeof stat === 'object' && stat !== null);
  const transport = stats.find((stat) => stat.type === 'transport' && typeof stat.selectedCandidatePairId === 'string');
  const pair = transport
    ? (report.get(transport.selectedCandidatePairId as string) as Stat | undefined)
    : // Firefox marks the pair itself instead of naming it in a transport entry.
      stats.find((stat) => stat.type === 'candidate-pair' && stat.selected === true);
  if (!pair || typeof pair.localCandidateId !== 'string') return undefined;
  const local = report.get(pair.localCandidateId) as Stat | undefined;
  if (!local) return undefined;
  if (local.candidateType === 'relay') return 'relayed';
  return local.protocol === 'tcp' ? 'direct-tcp' : 'direct-udp';
}
