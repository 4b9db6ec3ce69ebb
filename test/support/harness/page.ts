/**
 * Bundled into a page of the relais server by the integration tests: exposes the real
 * ConferenceClient (socket.io-client + mediasoup-client) to puppeteer, without the UI.
 */
import type { Permissions } from '../../../server/src/domain/roles.js';
import type { RequestName, RequestPayload } from '../../../server/src/signalling/catalog.js';
import { RequestFailed } from '../../../server/src/signalling/catalogRequest.js';
import { ConferenceClient } from '../../../web/src/rtc/ConferenceClient.js';

interface HarnessClient {
  client: ConferenceClient;
  joined: Awaited<ReturnType<ConferenceClient['connect']>>;
}

const clients = new Map<string, HarnessClient>();

async function join(
  name: string,
  token: string,
  receiveVideo: 'auto' | 'on-request' = 'auto',
  iceTransportPolicy: RTCIceTransportPolicy = 'all',
  lowBandwidth = false,
): Promise<{ participantId: string; permissions: Permissions; activeSpeaker: string | null }> {
  const client = new ConferenceClient({ token, reconnection: false, receiveVideo, iceTransportPolicy, lowBandwidth });
  const joined = await client.connect();
  clients.set(name, { client, joined });
  return { participantId: joined.self.id, permissions: joined.permissions, activeSpeaker: joined.activeSpeaker };
}

function get(name: string): ConferenceClient {
  const entry = clients.get(name);
  if (!entry) throw new Error(`no harness client ${name}`);
  return entry.client;
}

async function publish(
  name: string,
  sources: ('mic' | 'camera')[],
  video: { width: number; height: number } = { width: 640, height: 360 },
): Promise<string[]> {
  const client = get(name);
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: sources.includes('mic')
      ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false }
      : false,
    video: sources.includes('camera') ? video : false,
  });
  const ids: string[] = [];
  for (const track of stream.getTracks())
    ids.push(await client.publish(track.kind === 'audio' ? 'mic' : 'camera', track));
  return ids;
}

async function stats(name: string) {
  return get(name).receiveStats();
}

function remoteTracks(name: string) {
  return get(name)
    .remoteTracks()
    .map(({ consumerId, producerId, participantId, kind, source, paused }) => ({
      consumerId,
      producerId,
      participantId,
      kind,
      source,
      paused,
    }));
}

/** Any catalog request, as a test asks for it (a test may send what the catalog forbids). */
async function request(name: string, request: RequestName, payload: unknown) {
  try {
    return { ok: true, data: await get(name).request(request, payload as RequestPayload<typeof request>) };
  } catch (error) {
    if (error instanceof RequestFailed) return { ok: false, error: { code: error.code, message: error.error.message } };
    return { ok: false, error: { code: undefined, message: String(error) } };
  }
}

async function leave(name: string): Promise<void> {
  await get(name).leave();
  clients.delete(name);
}

const harness = {
  join,
  publish,
  stats,
  remoteTracks,
  request,
  leave,
  hasSendTransport: (name: string) => get(name).hasSendTransport(),
  mediaPath: (name: string) => get(name).mediaPath ?? null,
  iceServers: (name: string) => clients.get(name)?.joined.iceServers.map((server) => ({ ...server })) ?? [],
  permissions: (name: string) => ({ ...get(name).permissions }),
  availableVideo: (name: string) =>
    get(name)
      .availableVideo()
      .map((info) => ({ ...info })),
  watchVideo: (name: string, producerId: string) => get(name).watchVideo(producerId),
  stopVideo: (name: string, producerId: string) => get(name).stopVideo(producerId),
  setLowBandwidth: (name: string, on: boolean) => get(name).setLowBandwidth(on),
  receivedBytes: (name: string) => get(name).receivedBytes(),
};
(window as unknown as { relaisHarness: typeof harness }).relaisHarness = harness;
export type RelaisHarness = typeof harness;
