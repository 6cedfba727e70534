import { z } from "zod";
import { isZone, parseClock, parseDate, WEEKDAYS } from "./time.ts";
import { channelSpecs, personChannels, type ChannelName } from "../../bots/specs.ts";

/**
 * Config schemas for on-call schedules (`oncall.schedules`). Kept here so the config schema
 * (src/config/schema.ts) only plugs them in. Times are validated with the zone library, so a
 * schedule that loads is one `who` can answer for any instant.
 */

const zone = z.string().refine(isZone, { message: "not an IANA time zone (e.g. \"Europe/Berlin\", \"America/St_Johns\")" });

/** "daily" | "weekly" | "every 12h" | "every 2d" → { days } or { hours } (hours divide 24). */
const rotationSchema = z
  .string()
  .transform((raw, ctx): { days: number } | { hours: number } => {
    const s = raw.trim();
    if (s === "daily") return { days: 1 };
    if (s === "weekly") return { days: 7 };
    const m = /^every\s+(\d+)\s*(h|d|w)$/.exec(s);
    const n = m ? Number(m[1]) : 0;
    if (!m || n < 1) {
      ctx.addIssue({ code: "custom", message: `"${raw}" is not a rotation; use daily, weekly, "every 12h", "every 2d" or "every 2w"` });
      return z.NEVER;
    }
    if (m[2] === "d") return { days: n };
    if (m[2] === "w") return { days: 7 * n };
    if (n % 24 === 0) return { days: n / 24 };
    if (24 % n !== 0) {
      ctx.addIssue({ code: "custom", message: `"${raw}": an hourly rotation must divide the day (1, 2, 3, 4, 6, 8, 12h) or be whole days, so handoffs keep their local time across DST` });
      return z.NEVER;
    }
    return { hours: n };
  })
  .describe("daily, weekly, \"every Nh\" (N divides 24), \"every Nd\" or \"every Nw\"");

/** "Mon 09:00" or "09:00" (local to the layer's time zone). */
const handoffSchema = z
  .string()
  .transform((raw, ctx): { weekday: number | null; minute: number } => {
    const m = /^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+)?(\d{1,2}:\d{2})$/i.exec(raw.trim());
    const minute = m ? parseClock(m[2] as string) : null;
    if (!m || minute === null) {
      ctx.addIssue({ code: "custom", message: `"${raw}" is not a handoff; use "Mon 09:00" or "09:00"` });
      return z.NEVER;
    }
    const day = m[1] ? WEEKDAYS.findIndex((d) => d.toLowerCase() === (m[1] as string).toLowerCase()) : null;
    return { weekday: day, minute };
  })
  .describe("local handoff time: \"Mon 09:00\" (weekly rotations) or \"09:00\"");

const dateSchema = z.string().refine((s) => parseDate(s) !== null, { message: "use a date as YYYY-MM-DD" });
const clock = z.string().refine((s) => parseClock(s) !== null, { message: "use a time as HH:MM" });
const weekday = z.enum(WEEKDAYS);

const activeSchema = z
  .strictObject({
    days: z.array(weekday).min(1).optional().describe("weekdays the layer covers (default every day)"),
    from: clock.optional().describe("local start time of the covered window (default 00:00)"),
    to: clock.optional().describe("local end time (default 24:00; earlier than from = over midnight)"),
  })
  .describe("when this layer has someone on call; outside it, earlier layers answer");

const layerFields = {
  timezone: zone.optional().describe("IANA time zone of handoff and active times (default: the schedule's)"),
  rotation: rotationSchema.prefault("weekly"),
  handoff: handoffSchema.prefault("Mon 09:00"),
  start: dateSchema.default("2024-01-01").describe("local date the rotation starts from with its first member (default 2024-01-01, a Monday)"),
  members: z.array(z.string().min(1)).min(1).describe("person ids from `people`, in rotation order"),
};

const layerSchema = z.strictObject({ ...layerFields, active: activeSchema.optional() });

const overrideSchema = z.strictObject({
  person: z.string().min(1),
  from: z.string().min(1).describe("\"2026-12-01 09:00\" (schedule time zone) or ISO 8601 with an offset"),
  to: z.string().min(1),
});

export const scheduleSchema = z
  .strictObject({
    ...layerFields,
    timezone: zone.describe("IANA time zone, e.g. Europe/Berlin"),
    layers: z.array(layerSchema).default([]).describe("more layers on top of this one; a later layer wins where it has someone"),
    overrides: z.array(overrideSchema).default([]).describe("fixed cover, e.g. { person: bob, from: \"2026-12-01 09:00\", to: \"2026-12-01 17:00\" }; `clawgate oncall override add` adds more at run time"),
  });

const outOfOfficeSchema = z.strictObject({
  from: z.string().min(1).describe("\"2026-12-24\" or \"2026-12-24 13:00\" (the person's time zone, default UTC) or ISO 8601"),
  to: z.string().min(1),
  delegate: z.string().min(1).describe("person id who is on call in their place"),
});

export const oncallSchema = z
  .strictObject({
    schedules: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, "use letters, digits, _ and - only"), scheduleSchema).default({}).describe("schedule name → rotation, layers and overrides"),
  })
  .default({ schedules: {} });

export type ScheduleConfig = z.infer<typeof scheduleSchema>;
export type LayerConfig = z.infer<typeof layerSchema>;
export type OncallConfig = z.infer<typeof oncallSchema>;

/** `people.<id>.<channel>` for every channel that reaches people (bots/spec.ts `person`). */
const personChannelFields = Object.fromEntries(
  channelSpecs()
    .filter((s) => s.person)
    .map((s) => {
      const field = z.string().optional();
      return [s.name, s.person?.describe ? field.describe(s.person.describe) : field];
    }),
) as Record<ChannelName, z.ZodOptional<z.ZodString>>; // typed for every channel; only those with a person field exist

/** `people.<id>`: a person's name, ids on each channel, time zone and absences. */
export const personSchema = z.strictObject({
  name: z.string().optional(),
  ...personChannelFields,
  timezone: z.string().optional().describe("IANA time zone; out-of-office times without an offset are read in it (default UTC)"),
  prefer: z
    .array(z.enum(personChannels() as [string, ...string[]]))
    .default(personChannels())
    .describe("channels to reach this person on, first configured one wins (a direct message)"),
  outOfOffice: z.array(outOfOfficeSchema).default([]).describe("periods someone else is on call in their place"),
  ids: z
    .array(z.string().regex(/^[a-z][a-z0-9_-]*:.+$/, "use \"channel:id\", e.g. \"telegram:42\" or \"cli:alice\""))
    .default([])
    .describe("other identities of this person as \"channel:id\" (OpenClaw chat senders, CLI users), used to spot self-approval and in the audit log"),
});
export type PersonConfig = z.output<typeof personSchema>;
