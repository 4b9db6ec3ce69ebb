/**
 * The attendance register as CSV (RFC 4180: CRLF line ends, fields with `"` `,` CR or LF
 * quoted, `"` doubled), one row per interval, sorted by start. Names come from tokens, so a
 * cell that a spreadsheet would read as a formula is neutralised (OWASP "CSV injection").
 */
import type { AttendanceJson } from './AttendanceRegister.js';
import type { EventActor } from './roomEvents.js';

export const ATTENDANCE_CSV_COLUMNS = [
  'room',
  'sub',
  'name',
  'role',
  'entry',
  'start',
  'end',
  'duration_s',
  'detail',
  'by',
] as const;

type Row = Record<(typeof ATTENDANCE_CSV_COLUMNS)[number], string>;

/**
 * Characters Excel, LibreOffice and Google Sheets take as the start of a formula, also in their
 * full-width forms (which some of them fold).
 */
const FORMULA_CHARS = new Set(['=', '+', '-', '@', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

/**
 * A text made inert for spreadsheets: an apostrophe in front makes it plain text (shown
 * without it) when it starts with a tab or CR, or with a formula character once leading spaces
 * and control characters, which spreadsheets skip, are passed.
 */
export function spreadsheetSafe(text: string): string {
  if (text.startsWith('\t') || text.startsWith('\r')) return `'${text}`;
  let i = 0;
  while (i < text.length && (text.charCodeAt(i) < 0x20 || /\s/.test(text.charAt(i)))) i += 1;
  return FORMULA_CHARS.has(text.charAt(i)) ? `'${text}` : text;
}

/** RFC 4180 quoting of one field. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function actorText(actor: EventActor | undefined): string {
  if (!actor) return '';
  return actor.kind === 'operator' ? 'operator' : `${actor.name} (${actor.sub})`;
}

function seconds(start: string, end: string | null): string {
  return end === null ? '' : String(Math.max(0, Math.round((Date.parse(end) - Date.parse(start)) / 1000)));
}

export function attendanceCsv(register: AttendanceJson, options: { excelBom?: boolean } = {}): string {
  const rows: Row[] = [];
  for (const person of register.people) {
    const who = { room: register.room, sub: person.sub, name: person.name };
    for (const p of person.presences) {
      rows.push({
        ...who,
        role: p.role,
        entry: 'presence',
        start: p.joinedAt,
        end: p.leftAt ?? '',
        duration_s: seconds(p.joinedAt, p.leftAt),
        detail: p.leaveReason ?? '',
        by: actorText(p.removedBy),
      });
    }
    for (const f of person.floor) {
      rows.push({
        ...who,
        role: person.role,
        entry: 'floor',
        start: f.givenAt,
        end: f.takenAt ?? '',
        duration_s: seconds(f.givenAt, f.takenAt),
        detail: '',
        by: actorText(f.givenBy),
      });
    }
    for (const r of person.roleChanges) {
      rows.push({
        ...who,
        role: r.to,
        entry: 'role',
        start: r.at,
        end: r.at,
        duration_s: '0',
        detail: `${r.from} to ${r.to}`,
        by: actorText(r.by),
      });
    }
    for (const l of person.lobby) {
      rows.push({
        ...who,
        role: person.role,
        entry: 'lobby',
        start: l.waitingSince,
        end: l.decidedAt,
        duration_s: seconds(l.waitingSince, l.decidedAt),
        detail: l.outcome,
        by: actorText(l.by),
      });
    }
  }
  // ISO 8601 UTC strings of one length sort as their times; the sort is stable for equal starts.
  rows.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const lines = [ATTENDANCE_CSV_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(ATTENDANCE_CSV_COLUMNS.map((column) => csvField(spreadsheetSafe(row[column]))).join(','));
  }
  // The byte-order mark makes Excel read UTF-8 (accented names) instead of the local code page.
  return `${options.excelBom ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n`;
}
