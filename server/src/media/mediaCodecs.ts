import type { types } from 'mediasoup';

/**
 * Opus with in-band FEC and DTX (speech over lossy links, silence costs nothing) and VP8,
 * which every browser decodes in hardware or cheaply, for simulcast.
 */
export const MEDIA_CODECS: types.RouterRtpCodecCapability[] = [
  {
    kind: 'audio',
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: { useinbandfec: 1, usedtx: 1 },
  },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 600 },
  },
];
