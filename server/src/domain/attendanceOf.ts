import { AttendanceRegister } from './AttendanceRegister.js';
import type { RoomEvent } from './roomEvents.js';

/**
 * A room's register rebuilt from its stored entries (written by every node of a cluster). An
 * entry the register refuses (a contradiction, e.g. two nodes racing on a rejoin) is handed to
 * `rejected` and skipped: the rest of the register stands.
 */
export function attendanceOf(
  room: string,
  entries: readonly RoomEvent[],
  rejected: (entry: RoomEvent, error: unknown) => void,
): AttendanceRegister {
  const register = new AttendanceRegister(room);
  for (const entry of entries) {
    try {
      register.record(entry);
    } catch (error) {
      rejected(entry, error);
    }
  }
  return register;
}
