import { z } from 'zod';
import { ROOM_ID_PATTERN } from '../auth/claims.js';
import { MEDIA_SOURCES } from '../domain/roles.js';

/**
 * The messages nodes exchange over the internal API (/internal, HMAC-signed, see
 * internalAuth.ts). Both sides validate with these schemas: what comes off the wire is
 * `unknown` until parsed here, requests and answers alike.
 */

const id = z.string().min(1).max(100);
const roomId = z.string().regex(ROOM_ID_PATTERN);
const ip = z.union([z.ipv4(), z.ipv6()]);

export const nodeRef = z.object({ id, url: z.url({ protocol: /^https?$/ }) }).strict();
export type NodeRef = z.infer<typeof nodeRef>;

/** mediasoup's SRTP parameters of a pipe transport: the key travels only in these signed requests. */
export const srtpParameters = z
  .object({
    cryptoSuite: z.enum(['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']),
    keyBase64: z.string().min(16).max(200),
  })
  .strict();

export const pipeTuple = z.object({ ip, port: z.number().int().min(1).max(65535) }).strict();
export const pipeEndpoint = pipeTuple.extend({ srtpParameters }).strict();
export type PipeEndpoint = z.infer<typeof pipeEndpoint>;

export const producerInfo = z
  .object({
    producerId: id,
    participantId: z.string().min(1).max(200),
    kind: z.enum(['audio', 'video']),
    source: z.enum(MEDIA_SOURCES),
    paused: z.boolean(),
  })
  .strict();

/**
 * One opening of a room on a node (random, new each time the room opens there). Nodes name the
 * opening they speak for, so a late message about a room that has since closed and reopened on
 * a node is recognised and ignored rather than undoing the newer opening's links.
 */
const instance = id;

/** B → A: "tell me the room's producers on A, and tell me when they change". */
export const watchRequest = z.object({ roomId, node: nodeRef, instance }).strict();
/** `instance` is absent when the room is not open on A. */
export const watchAnswer = z
  .object({ producers: z.array(producerInfo).max(1000), instance: instance.optional() })
  .strict();
export type WatchAnswer = z.infer<typeof watchAnswer>;

/** B → A: the room (that opening of it) closed on B; close every pipe of it to B and stop following B. */
export const unwatchRequest = z.object({ roomId, nodeId: id, instance }).strict();

/** B → A: "pipe producer P to my pipe transport at ip:port with these SRTP parameters". */
export const pipeRequest = z.object({ roomId, node: nodeRef, producerId: id, transport: pipeEndpoint }).strict();
export const pipeAnswer = z
  .object({
    transport: pipeEndpoint,
    producer: producerInfo.extend({ rtpParameters: z.record(z.string(), z.unknown()) }).strict(),
  })
  .strict();
export type PipeAnswer = z.infer<typeof pipeAnswer>;

/** B → A: B has no consumer of P left. `transport` names B's end, so a late request cannot close a newer pipe. */
export const closePipeRequest = z.object({ roomId, nodeId: id, producerId: id, transport: pipeTuple }).strict();

/** A → B (B watches A): a producer of the room on A appeared, closed, or was paused or resumed (a mute). */
export const pipeEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('producerAdded'), producer: producerInfo }).strict(),
  z.object({ type: z.literal('producerClosed'), producerId: id }).strict(),
  z.object({ type: z.literal('producerPaused'), producerId: id, paused: z.boolean() }).strict(),
]);
export type PipeEvent = z.infer<typeof pipeEvent>;
export const eventRequest = z.object({ roomId, nodeId: id, instance, event: pipeEvent }).strict();
