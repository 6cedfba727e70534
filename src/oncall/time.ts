import { DateTime, IANAZone } from "luxon";

/**
 * Wall-clock helpers on luxon (IANA zones, DST-aware). Schedules compare local wall-clock
 * times, so a 09:00 handoff stays at 09:00 local on both sides of a DST change.
 */

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

export function isZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

/** "09:00" → minutes after midnight, or null. */
export function parseClock(text: string): number | null {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** "YYYY-MM-DD" → days since 1970-01-01 (calendar days, no zone involved), or null. */
export function parseDate(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(ms);
  if (d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return null;
  return Math.round(ms / 86_400_000);
}

/** The local calendar day (days since 1970-01-01), weekday (0 = Mon) and minute of day of an instant in a zone. */
export function wallClock(at: number, zone: string): { day: number; weekday: number; minute: number } {
  const dt = DateTime.fromMillis(at, { zone });
  const day = Math.round(Date.UTC(dt.year, dt.month - 1, dt.day) / 86_400_000);
  return { day, weekday: dt.weekday - 1, minute: dt.hour * 60 + dt.minute };
}

/**
 * The first instant whose local wall clock on calendar `day` in `zone` reads `minute` or later.
 * Usually that wall time itself; a wall time skipped by a spring-forward change resolves to
 * the moment of the change (02:30 on a 02:00→03:00 night → 03:00), and a repeated one (fall
 * back) to its first occurrence.
 */
export function instantOf(day: number, minute: number, zone: string): number {
  const d = new Date(day * 86_400_000);
  const dt = DateTime.fromObject(
    { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: Math.floor(minute / 60), minute: minute % 60 },
    { zone },
  );
  let at = dt.toMillis();
  if (dt.hour * 60 + dt.minute === minute) {
    // A repeated wall time (fall back): take its first occurrence.
    for (const back of [3_600_000, 1_800_000]) {
      const w = wallClock(at - back, zone);
      if (w.day === day && w.minute === minute) return at - back;
    }
    return at;
  }
  // In a gap luxon moves forward by the gap's length: step back to the change itself.
  for (let i = 0; i < 24 * 60; i++) {
    const w = wallClock(at - 60_000, zone);
    if (w.day !== day || w.minute < minute) break;
    at -= 60_000;
  }
  return at;
}

/**
 * A time as people write it: ISO 8601 with an offset ("2026-12-01T09:00:00Z"), or local to
 * `zone` ("2026-12-01 09:00", "2026-12-01T09:00", a bare date = its midnight), or "now".
 * Returns ms, or null when it is not a time.
 */
export function parseTime(text: string, zone = "UTC", now = Date.now()): number | null {
  const t = text.trim();
  if (t === "now") return now;
  if (/^\d{10,}$/.test(t)) return Number(t);
  const dt = DateTime.fromISO(t.replace(/^(\d{4}-\d{2}-\d{2}) /, "$1T"), { zone });
  return dt.isValid ? dt.toMillis() : null;
}

/** How an instant reads in a zone, e.g. "2026-12-01 09:00 CET". */
export function formatIn(at: number, zone: string): string {
  return DateTime.fromMillis(at, { zone }).toFormat("yyyy-LL-dd HH:mm ZZZZ");
}
