import type { ParticipantView } from './Participant.js';
import { isOnStage } from './stage.js';

/** A listener's view of a room: counts, who can be heard, hands raised (no full roster). */
export interface RoomSummary {
  participants: number;
  /** Moderators, speakers and anyone holding the floor: the people a listener hears. */
  speakers: ParticipantView[];
  handsRaised: number;
}

export function summarize(participants: readonly ParticipantView[]): RoomSummary {
  return {
    participants: participants.length,
    speakers: participants.filter(isOnStage),
    handsRaised: participants.filter((p) => p.handRaised).length,
  };
}
