import type { Role } from './roles.js';

/**
 * Who is "on stage": the people a briefing's listeners hear and see. Everyone but the
 * audience, plus a listener holding the floor. Shared by the server (who gets into a listener's
 * summary) and the web client (who gets a tile).
 */
export function isOnStage(participant: { role: Role; hasFloor: boolean }): boolean {
  return participant.role !== 'listener' || participant.hasFloor;
}
