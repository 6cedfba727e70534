import type { LayerConfig, ScheduleConfig } from "./schema.ts";
import { instantOf, parseDate, parseTime, WEEKDAYS, parseClock, wallClock } from "./time.ts";

/** A cover set at run time (`clawgate oncall override add`) or in config. */
export interface Override {
  id: string;
  schedule: string;
  person: string;
  from: number;
  to: number;
  by?: string;
  createdAt?: number;
}

export interface OutOfOffice {
  from: number;
  to: number;
  delegate: string;
}

/** Who is on call and why. */
export interface OnCall {
  schedule: string;
  person: string | null;
  /** rotation = a layer's rotation; override; (delegation is shown by delegatedFrom). */
  via: "rotation" | "override" | "nobody";
  /** 0 = the schedule's own rotation, 1.. = layers[0..]. */
  layer?: number;
  /** The person the rotation or override named, who is out of office. */
  delegatedFrom?: string[];
  /** The current shift or override window. */
  from?: number;
  until?: number;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** Which member of one layer holds `at`, and their shift; null where the layer has nobody then. */
function layerAt(layer: LayerConfig & { timezone: string }, at: number): { person: string; from: number; until: number } | null {
  const zone = layer.timezone;
  const wall = wallClock(at, zone);
  if (layer.active && !activeAt(layer.active, wall)) return null;
  const start = parseDate(layer.start) as number;
  const { handoff, rotation } = layer;
  const n = layer.members.length;
  if ("hours" in rotation) {
    // Slots at handoff + k·N hours of local wall-clock time each day; slot i starts at slotStart(i).
    const perDay = 24 / rotation.hours;
    const slotStart = (i: number) => {
      const dayOffset = Math.floor(i / perDay);
      const m = handoff.minute + mod(i, perDay) * rotation.hours * 60;
      return instantOf(start + dayOffset + Math.floor(m / 1_440), m % 1_440, zone);
    };
    const sinceHandoff = wall.minute - handoff.minute;
    let i = (wall.day - start - (sinceHandoff < 0 ? 1 : 0)) * perDay + Math.floor(mod(sinceHandoff, 1_440) / (rotation.hours * 60));
    // The wall-clock estimate can be a slot off around DST changes: settle it on instants.
    while (at < slotStart(i)) i--;
    while (at >= slotStart(i + 1)) i++;
    return { person: layer.members[mod(i, n)] as string, from: slotStart(i), until: slotStart(i + 1) };
  }
  // Day-based: the first shift starts on `start` (moved forward to the handoff weekday, if any).
  const anchor = handoff.weekday === null ? start : start + mod(handoff.weekday - weekdayOf(start), 7);
  let day = wall.day;
  if (at < instantOf(day, handoff.minute, zone)) day -= 1;
  const shift = Math.floor((day - anchor) / rotation.days);
  const shiftDay = anchor + shift * rotation.days;
  return {
    person: layer.members[mod(shift, n)] as string,
    from: instantOf(shiftDay, handoff.minute, zone),
    until: instantOf(shiftDay + rotation.days, handoff.minute, zone),
  };
}

/** 0 = Monday for a day count since 1970-01-01 (a Thursday). */
function weekdayOf(day: number): number {
  return mod(day + 3, 7);
}

function activeAt(active: NonNullable<LayerConfig["active"]>, wall: { weekday: number; minute: number }): boolean {
  const from = active.from ? (parseClock(active.from) as number) : 0;
  const to = active.to ? (parseClock(active.to) as number) : 1_440;
  const days = active.days?.map((d) => WEEKDAYS.indexOf(d));
  if (from < to) return (!days || days.includes(wall.weekday)) && wall.minute >= from && wall.minute < to;
  // Over midnight (22:00–06:00): the early hours belong to the previous day's window.
  if (wall.minute >= from) return !days || days.includes(wall.weekday);
  if (wall.minute < to) return !days || days.includes(mod(wall.weekday - 1, 7));
  return false;
}

/** Config overrides as instants (local times read in the schedule's zone). */
function configOverrides(name: string, s: ScheduleConfig): Override[] {
  return s.overrides.map((o, i) => ({
    id: `config-${i + 1}`,
    schedule: name,
    person: o.person,
    from: parseTime(o.from, s.timezone) as number,
    to: parseTime(o.to, s.timezone) as number,
  }));
}

/**
 * Who is on call for schedule `name` at `at`: the newest override covering `at`, else the
 * last layer that has someone, else the base rotation; then out-of-office delegation (followed
 * a few hops, never in a loop).
 */
export function whoIsOnCall(
  name: string,
  s: ScheduleConfig,
  at: number,
  opts: { overrides?: readonly Override[]; outOfOffice?: (person: string) => readonly OutOfOffice[] } = {},
): OnCall {
  let found: OnCall = { schedule: name, person: null, via: "nobody" };
  const layers = [{ ...s, active: undefined }, ...s.layers];
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as LayerConfig;
    const hit = layerAt({ ...layer, timezone: layer.timezone ?? s.timezone }, at);
    if (hit) {
      found = { schedule: name, person: hit.person, via: "rotation", layer: i, from: hit.from, until: hit.until };
      break;
    }
  }
  const covering = [...configOverrides(name, s), ...(opts.overrides ?? []).filter((o) => o.schedule === name)].filter((o) => o.from <= at && at < o.to);
  const override = covering.at(-1);
  if (override) found = { schedule: name, person: override.person, via: "override", from: override.from, until: override.to };
  if (found.person && opts.outOfOffice) {
    const seen = new Set<string>([found.person]);
    const from: string[] = [];
    for (let hop = 0; hop < 5; hop++) {
      const away = opts.outOfOffice(found.person as string).find((o) => o.from <= at && at < o.to);
      if (!away || seen.has(away.delegate)) break;
      from.push(found.person as string);
      seen.add(away.delegate);
      found = { ...found, person: away.delegate };
    }
    if (from.length) found.delegatedFrom = from;
  }
  return found;
}
