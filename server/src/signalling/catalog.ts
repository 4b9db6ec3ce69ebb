/**
 * The signalling message catalog, shared by the server and the browser client (`web/`
 * imports its types). Client→server messages are requests answered through a Socket.IO
 * acknowledgement; server→client messages are notifications.
 *
 * Every request payload is validated here, at the boundary, before any handler runs.
 * RTP/DTLS dictionaries are checked for shape only: mediasoup validates their contents
 * and its errors are turned into INVALID_REQUEST.
 */
import { z } from 'zod';
import { MAX_CHAT_LENGTH } from '../domain/chat.js';
import type { ErrorCode, RedirectTarget } from '../domain/errors.js';
import type { ParticipantView } from '../domain/Participant.js';
import type { MediaSource, Permissions, Role } from '../domain/roles.js';
import type { RoomPolicy } from '../domain/roomPolicy.js';
import type { RoomSummary } from '../domain/roomSummary.js';
import type { RefusalReason, SessionEndReason } from '../domain/sessionEnd.js';

export type {
  ErrorCode,
  ParticipantView,
  MediaSource,
  Permissions,
  Role,
  RoomSummary,
  RoomPolicy,
  RefusalReason,
  SessionEndReason,
};

const id = z.string().min(1).max(100);
/** An RTP/DTLS/ICE dictionary from mediasoup(-client): a JSON object checked by mediasoup. */
const dictionary = z.record(z.string(), z.unknown());
export type Dictionary = Record<string, unknown>;

export const requestSchemas = {
  getRouterRtpCapabilities: z.object({}).strict(),
  join: z
    .object({
      rtpCapabilities: z.looseObject({
        codecs: z.array(dictionary).max(64),
        headerExtensions: z.array(dictionary).max(64).optional(),
      }),
    })
    .strict(),
  createTransport: z.object({ direction: z.enum(['send', 'recv']) }).strict(),
  connectTransport: z.object({ transportId: id, dtlsParameters: dictionary }).strict(),
  restartIce: z.object({ transportId: id }).strict(),
  produce: z
    .object({
      transportId: id,
      kind: z.enum(['audio', 'video']),
      rtpParameters: dictionary,
      source: z.enum(['mic', 'camera', 'screen']),
    })
    .strict(),
  closeProducer: z.object({ producerId: id }).strict(),
  pauseProducer: z.object({ producerId: id }).strict(),
  resumeProducer: z.object({ producerId: id }).strict(),
  consume: z.object({ producerId: id }).strict(),
  resumeConsumer: z.object({ consumerId: id }).strict(),
  closeConsumer: z.object({ consumerId: id }).strict(),
  setConsumerLayers: z
    .object({
      consumerId: id,
      spatialLayer: z.number().int().min(0).max(2),
      temporalLayer: z.number().int().min(0).max(2).optional(),
    })
    .strict(),
  // Twice the chat limit: the domain refuses a long text with its own words (the limit).
  chat: z.object({ text: z.string().max(2 * MAX_CHAT_LENGTH) }).strict(),
  setHand: z.object({ raised: z.boolean() }).strict(),
  muteParticipant: z.object({ participantId: id }).strict(),
  removeParticipant: z.object({ participantId: id }).strict(),
  grantFloor: z.object({ participantId: id }).strict(),
  revokeFloor: z.object({ participantId: id }).strict(),
  /** A moderator sets who may enter: anyone, after admission, or nobody new. */
  setRoomPolicy: z.object({ policy: z.enum(['open', 'lobby', 'locked']) }).strict(),
  /** A moderator admits or refuses one person waiting in the lobby, or everyone waiting (no id). */
  decideLobby: z.object({ decision: z.enum(['admit', 'refuse']), participantId: id.optional() }).strict(),
  /** A moderator mutes every microphone but the moderators' (and, with keepFloor, the floor's). */
  muteAll: z.object({ keepFloor: z.boolean() }).strict(),
  lowerAllHands: z.object({}).strict(),
  /** A moderator ends the meeting for everyone in it. */
  endForAll: z.object({}).strict(),
  /** A moderator gives someone another role, live. */
  setRole: z.object({ participantId: id, role: z.enum(['moderator', 'speaker', 'listener']) }).strict(),
  /** A moderator puts one participant's video in front of everyone (null: back to the active speaker). */
  setSpotlight: z.object({ participantId: id.nullable() }).strict(),
  /** A moderator downloads the attendance register (JSON or CSV). */
  exportAttendance: z.object({ format: z.enum(['json', 'csv']) }).strict(),
  leave: z.object({}).strict(),
} as const;

export type RequestName = keyof typeof requestSchemas;
/** What a client sends with request N (what the schema accepts). */
export type RequestPayload<N extends RequestName> = z.input<(typeof requestSchemas)[N]>;
/** What a handler receives for request N (what the schema produced). */
export type ValidPayload<N extends RequestName> = z.output<(typeof requestSchemas)[N]>;

/** RTP capabilities on the wire: mediasoup's dictionary, checked for shape here and for content by mediasoup. */
export type RtpCapabilitiesDictionary = RequestPayload<'join'>['rtpCapabilities'];

export interface TransportOptions {
  id: string;
  iceParameters: Dictionary;
  iceCandidates: Dictionary[];
  dtlsParameters: Dictionary;
}

export interface ProducerInfo {
  producerId: string;
  participantId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  paused: boolean;
}

export interface ChatMessage {
  from: string;
  name: string;
  text: string;
  at: number;
}

/**
 * A TURN server with the participant's own short-lived credentials, as `RTCIceServer` takes it.
 * (Only TURN: an air-gapped relais never points a browser at a STUN server.)
 */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

/** What a participant is told about the room when it joins. */
export interface JoinResult {
  self: ParticipantView;
  participants: ParticipantView[];
  producers: ProducerInfo[];
  permissions: Permissions;
  /** Who is speaking right now (server-side active speaker detection), if anyone. */
  activeSpeaker: string | null;
  /** TURN servers for both transports (ICE still tries the direct path first); empty without TURN. */
  iceServers: IceServer[];
  /** Who may enter now. */
  policy: RoomPolicy;
  /** The participant a moderator put in front of everyone, if any. */
  spotlight: string | null;
  /** Those waiting in the lobby: for moderators (empty for the others). */
  lobby: LobbyView[];
}

/** Someone waiting in the lobby, as moderators see them. */
export interface LobbyView {
  id: string;
  name: string;
  role: Role;
  /** When they started waiting (ms since the epoch). */
  since: number;
}

export interface RequestResults {
  /** The router's capabilities, as `join` expects a client's (a device loads them first). */
  getRouterRtpCapabilities: { rtpCapabilities: RtpCapabilitiesDictionary };
  join: JoinResult;
  createTransport: TransportOptions;
  connectTransport: Record<string, never>;
  /** Fresh TURN credentials too: those of the join may have expired since (coturn checks them per allocation). */
  restartIce: { iceParameters: Dictionary; iceServers: IceServer[] };
  produce: { producerId: string };
  closeProducer: Record<string, never>;
  pauseProducer: Record<string, never>;
  resumeProducer: Record<string, never>;
  consume: {
    consumerId: string;
    producerId: string;
    participantId: string;
    kind: 'audio' | 'video';
    source: MediaSource;
    rtpParameters: Dictionary;
    producerPaused: boolean;
  };
  resumeConsumer: Record<string, never>;
  closeConsumer: Record<string, never>;
  setConsumerLayers: Record<string, never>;
  chat: Record<string, never>;
  setHand: Record<string, never>;
  muteParticipant: Record<string, never>;
  removeParticipant: Record<string, never>;
  grantFloor: Record<string, never>;
  revokeFloor: Record<string, never>;
  setRoomPolicy: Record<string, never>;
  /** Those the decision applied to (ids). */
  decideLobby: { decided: string[] };
  muteAll: Record<string, never>;
  lowerAllHands: Record<string, never>;
  endForAll: Record<string, never>;
  setRole: Record<string, never>;
  setSpotlight: Record<string, never>;
  /** The register as a file's text: `content` is JSON (AttendanceJson) or CSV. */
  exportAttendance: { format: 'json' | 'csv'; content: string };
  leave: Record<string, never>;
}

export interface WireError {
  code: ErrorCode;
  message: string;
  /** With `REDIRECT`: the node to join instead (the page moves there). */
  redirect?: RedirectTarget;
}

/** The `data` of a refused handshake (`connect_error`): the client decides on `reason`. */
export interface HandshakeRefusal extends WireError {
  reason: RefusalReason;
}

export type Ack<N extends RequestName> = { ok: true; data: RequestResults[N] } | { ok: false; error: WireError };

export interface Notifications {
  participantJoined: ParticipantView;
  participantLeft: { participantId: string };
  participantUpdated: ParticipantView;
  /** Your own permissions changed (floor given or taken back). */
  permissionsChanged: { permissions: Permissions };
  producerAdded: ProducerInfo;
  producerClosed: { producerId: string };
  producerPaused: { producerId: string; paused: boolean };
  consumerClosed: { consumerId: string };
  activeSpeaker: { participantId: string | null };
  chatMessage: ChatMessage;
  /** You have been removed, or your session ended (token expired, replaced by a newer tab). */
  /** `redirect`: where the session continues (a draining node sends its participants elsewhere). */
  sessionEnded: { reason: SessionEndReason; redirect?: RedirectTarget };
  /** Listeners' view of the room, throttled: counts, who speaks, hands raised. */
  roomSummary: RoomSummary;
  /** A moderator muted your microphone. */
  mutedByModerator: { producerId: string };
  /** Who may enter the room changed (to everyone in it). */
  roomPolicy: { policy: RoomPolicy };
  /** Moderators: who waits in the lobby now. */
  lobbyChanged: { waiting: LobbyView[] };
  /** A moderator gave you another role: what you may do now, and what a new role lets you see. */
  roleChanged: {
    self: ParticipantView;
    permissions: Permissions;
    /** Everyone in the room, when the new role sees the list and the old one did not. */
    participants?: ParticipantView[];
    /** For a new moderator: who may enter and who waits. */
    policy?: RoomPolicy;
    lobby?: LobbyView[];
  };
  /** The stage follows a moderator's choice (null: the active speaker again). */
  spotlight: { participantId: string | null };
  /** You waited in the lobby and a moderator let you in: send `join` again. */
  lobbyAdmitted: Record<string, never>;
}

export type NotificationName = keyof Notifications;

/** Socket.IO typing for clients: each request with its payload and acknowledgement. */
export type ClientToServerEvents = {
  [N in RequestName]: (payload: RequestPayload<N>, ack: (response: Ack<N>) => void) => void;
};
/** The server's view of the same events: nothing is trusted before validation. */
export type IncomingEvents = {
  [N in RequestName]: (payload: unknown, ack: (response: Ack<N>) => void) => void;
};
export type ServerToClientEvents = {
  [N in NotificationName]: (payload: Notifications[N]) => void;
};
