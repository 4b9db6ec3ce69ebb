import type { SignallingClient } from './signallingClient.js';

/**
 * A microphone producer as the server sees one (no RTP flows: moderation acts on the producer,
 * not on the sound). Resolves with its id.
 */
export async function fakeMicrophone(client: SignallingClient): Promise<string> {
  const transport = await client.request('createTransport', { direction: 'send' });
  const ssrc = Math.floor(Math.random() * 0xffffffff) >>> 0;
  const { producerId } = await client.request('produce', {
    transportId: transport.id,
    kind: 'audio',
    source: 'mic',
    rtpParameters: {
      mid: '0',
      codecs: [
        { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] },
      ],
      headerExtensions: [],
      encodings: [{ ssrc }],
      rtcp: { cname: 'fake-mic', reducedSize: true },
    },
  });
  return producerId;
}
