import { Room, type RoomLimits } from './Room.js';

/** The rooms that exist on this server: a room lives while someone is in it. */
export class RoomDirectory {
  private readonly rooms = new Map<string, Room>();

  constructor(private readonly limits: RoomLimits) {}

  get count(): number {
    return this.rooms.size;
  }

  find(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  getOrCreate(roomId: string): Room {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = new Room(roomId, this.limits);
      this.rooms.set(roomId, room);
    }
    return room;
  }

  /** Forget the room if nobody is left; returns true when it was removed. */
  releaseIfEmpty(roomId: string): boolean {
    const room = this.rooms.get(roomId);
    if (room && room.isEmpty) {
      this.rooms.delete(roomId);
      return true;
    }
    return false;
  }

  all(): Room[] {
    return [...this.rooms.values()];
  }
}
