import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { whoIsOnCall, type Override } from "../../src/oncall/schedule.ts";
import { scheduleSchema } from "../../src/oncall/schema.ts";
import { outOfOfficeOf } from "../../src/oncall/who.ts";
import { buildConfig } from "../../src/config/load.ts";

const H = 3_600_000;
const utc = (iso: string) => Date.parse(iso);
const local = (text: string, zone: string) => DateTime.fromISO(text, { zone }).toMillis();
const wall = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat("yyyy-LL-dd HH:mm");
const schedule = (over: Record<string, unknown>) => scheduleSchema.parse({ members: ["alice", "bob"], ...over });

/** The 2026 DST changes of each zone (local dates) and which way the clock goes. */
const ZONES: Array<{ zone: string; changes: Array<{ date: string; hours: 23 | 25 }> }> = [
  { zone: "Europe/Berlin", changes: [{ date: "2026-03-29", hours: 23 }, { date: "2026-10-25", hours: 25 }] },
  { zone: "America/New_York", changes: [{ date: "2026-03-08", hours: 23 }, { date: "2026-11-01", hours: 25 }] },
  // Half-hour offsets: St. John's is UTC−3:30/−2:30, Adelaide UTC+9:30/+10:30 (southern summer).
  { zone: "America/St_Johns", changes: [{ date: "2026-03-08", hours: 23 }, { date: "2026-11-01", hours: 25 }] },
  { zone: "Australia/Adelaide", changes: [{ date: "2026-04-05", hours: 25 }, { date: "2026-10-04", hours: 23 }] },
];

describe("rotations across DST", () => {
  for (const { zone, changes } of ZONES) {
    for (const change of changes) {
      it(`daily 09:00 in ${zone} hands off at 09:00 local on both sides of ${change.date}; the shift over the change lasts ${change.hours}h`, () => {
        const s = schedule({ timezone: zone, rotation: "daily", handoff: "09:00" });
        const before = whoIsOnCall("p", s, local(`${change.date}T08:00`, zone));
        const after = whoIsOnCall("p", s, local(`${change.date}T09:00`, zone));
        expect(wall(before.from as number, zone)).toMatch(/ 09:00$/);
        expect(wall(after.from as number, zone)).toBe(`${change.date} 09:00`);
        expect(before.until).toBe(after.from);
        expect(((before.until as number) - (before.from as number)) / H).toBe(change.hours);
        expect(after.person).not.toBe(before.person);
        // Exactly at the handoff instant, not an hour early or late.
        expect(whoIsOnCall("p", s, (after.from as number) - 1).person).toBe(before.person);
      });
    }
  }

  it("a weekly Mon 09:00 rotation in Europe/Berlin follows the wall clock through both changes", () => {
    const s = schedule({ timezone: "Europe/Berlin", rotation: "weekly", handoff: "Mon 09:00", start: "2026-03-23" });
    // 2026-03-23 starts alice's week; DST begins on Sunday 03-29; bob takes over Monday 09:00 CEST = 07:00Z.
    expect(whoIsOnCall("p", s, utc("2026-03-30T06:59:59Z")).person).toBe("alice");
    const bob = whoIsOnCall("p", s, utc("2026-03-30T07:00:00Z"));
    expect(bob).toMatchObject({ person: "bob", via: "rotation", from: utc("2026-03-30T07:00:00Z"), until: utc("2026-04-06T07:00:00Z") });
    // Over the October change the shift is a week plus an hour: 09:00 CEST → 09:00 CET (08:00Z).
    const october = whoIsOnCall("p", s, utc("2026-10-22T12:00:00Z"));
    expect(october.until).toBe(utc("2026-10-26T08:00:00Z"));
    expect(((october.until as number) - (october.from as number)) / H).toBe(7 * 24 + 1);
  });

  it("the half-hour zone without DST (Asia/Kolkata) hands off at 09:00 IST = 03:30Z", () => {
    const s = schedule({ timezone: "Asia/Kolkata", rotation: "daily", handoff: "09:00", start: "2026-06-01" });
    expect(whoIsOnCall("p", s, utc("2026-06-01T03:29:59Z")).person).toBe("bob");
    expect(whoIsOnCall("p", s, utc("2026-06-01T03:30:00Z"))).toMatchObject({ person: "alice", from: utc("2026-06-01T03:30:00Z"), until: utc("2026-06-02T03:30:00Z") });
  });

  it("every 12h from 09:00 keeps 09:00 and 21:00 local in Adelaide; the night over the change is 11h", () => {
    const zone = "Australia/Adelaide";
    const s = schedule({ timezone: zone, rotation: "every 12h", handoff: "09:00", start: "2026-10-01" });
    const night = whoIsOnCall("p", s, local("2026-10-04T04:00", zone));
    expect(wall(night.from as number, zone)).toBe("2026-10-03 21:00");
    expect(wall(night.until as number, zone)).toBe("2026-10-04 09:00");
    expect(((night.until as number) - (night.from as number)) / H).toBe(11);
    const day = whoIsOnCall("p", s, local("2026-10-04T09:00", zone));
    expect(day.person).not.toBe(night.person);
    expect(wall(day.until as number, zone)).toBe("2026-10-04 21:00");
    // Slot count from the start: 2026-10-01 09:00 is alice (slot 0), 21:00 bob, … 10-04 09:00 is slot 6 → alice.
    expect(day.person).toBe("alice");
  });

  it("a handoff inside the spring-forward gap happens at the change; in the repeated hour it does not flip back", () => {
    const zone = "Europe/Berlin";
    const s = schedule({ timezone: zone, rotation: "daily", handoff: "02:30", start: "2026-03-01" });
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z; 02:30 never happens.
    const before = whoIsOnCall("p", s, utc("2026-03-29T00:59:59Z"));
    const after = whoIsOnCall("p", s, utc("2026-03-29T01:00:00Z"));
    expect(after.from).toBe(utc("2026-03-29T01:00:00Z"));
    expect(after.person).not.toBe(before.person);
    // 2026-10-25: 02:30 CEST (00:30Z) is the handoff; at 02:15 CET (01:15Z) the same person stays.
    const first = whoIsOnCall("p", s, utc("2026-10-25T00:30:00Z"));
    expect(first.from).toBe(utc("2026-10-25T00:30:00Z"));
    expect(whoIsOnCall("p", s, utc("2026-10-25T01:15:00Z")).person).toBe(first.person);
    expect(whoIsOnCall("p", s, utc("2026-10-25T00:29:59Z")).person).not.toBe(first.person);
  });
});

describe("layers, overrides, delegation", () => {
  const zone = "Europe/Berlin";
  const base = {
    timezone: zone,
    rotation: "weekly",
    handoff: "Mon 09:00",
    start: "2026-11-30",
    layers: [
      { members: ["carol"], active: { days: ["Sat", "Sun"] } },
      { members: ["dave"], active: { days: ["Wed"], from: "22:00", to: "06:00" } },
    ],
  };

  it("a later layer wins where it has someone; elsewhere the earlier ones answer", () => {
    const s = schedule(base);
    expect(whoIsOnCall("p", s, local("2026-12-01T10:00", zone))).toMatchObject({ person: "alice", layer: 0 });
    expect(whoIsOnCall("p", s, local("2026-12-05T10:00", zone))).toMatchObject({ person: "carol", layer: 1 });
    // Wednesday night 22:00 → Thursday 06:00, over midnight.
    expect(whoIsOnCall("p", s, local("2026-12-02T23:00", zone))).toMatchObject({ person: "dave", layer: 2 });
    expect(whoIsOnCall("p", s, local("2026-12-03T05:59", zone))).toMatchObject({ person: "dave" });
    expect(whoIsOnCall("p", s, local("2026-12-03T06:00", zone))).toMatchObject({ person: "alice" });
    expect(whoIsOnCall("p", s, local("2026-12-02T21:59", zone))).toMatchObject({ person: "alice" });
  });

  it("an override covers its window (config times in the schedule's zone); a newer run-time one wins over it", () => {
    const s = schedule({ ...base, overrides: [{ person: "bob", from: "2026-12-01 09:00", to: "2026-12-01 17:00" }] });
    expect(whoIsOnCall("p", s, local("2026-12-01T08:59", zone)).person).toBe("alice");
    expect(whoIsOnCall("p", s, local("2026-12-01T09:00", zone))).toMatchObject({ person: "bob", via: "override", until: local("2026-12-01T17:00", zone) });
    expect(whoIsOnCall("p", s, local("2026-12-01T17:00", zone)).person).toBe("alice");
    const runtime: Override[] = [{ id: "ov_1", schedule: "p", person: "erin", from: utc("2026-12-01T12:00:00Z"), to: utc("2026-12-01T13:00:00Z"), createdAt: 1 }];
    expect(whoIsOnCall("p", s, utc("2026-12-01T12:30:00Z"), { overrides: runtime }).person).toBe("erin");
    expect(whoIsOnCall("p", s, utc("2026-12-01T12:30:00Z"), { overrides: [{ ...runtime[0] as Override, schedule: "other" }] }).person).toBe("bob");
  });

  it("out of office hands the shift to the delegate (following chains of delegation, never a loop)", () => {
    const config = buildConfig(
      {
        people: {
          alice: { slack: "U0ALICE", timezone: zone, outOfOffice: [{ from: "2026-12-01", to: "2026-12-03", delegate: "bob" }] },
          bob: { slack: "U0BOB", outOfOffice: [{ from: "2026-12-02T00:00:00Z", to: "2026-12-10T00:00:00Z", delegate: "alice" }] },
          carol: { slack: "U0CAROL" },
        },
      },
      {},
    );
    const ooo = outOfOfficeOf(config);
    const s = schedule(base);
    // Dec 1 (Berlin): alice is away, bob covers.
    expect(whoIsOnCall("p", s, local("2026-12-01T10:00", zone), { outOfOffice: ooo })).toMatchObject({ person: "bob", delegatedFrom: ["alice"] });
    // Dec 2: both away, each naming the other: stop at bob rather than loop.
    expect(whoIsOnCall("p", s, local("2026-12-02T10:00", zone), { outOfOffice: ooo })).toMatchObject({ person: "bob", delegatedFrom: ["alice"] });
    // Alice's window ended at Dec 3 00:00 Berlin time (her zone), before Dec 2 23:00Z is even past.
    expect(whoIsOnCall("p", s, utc("2026-12-02T22:59:00Z"), { outOfOffice: ooo }).person).toBe("dave");
    const back = whoIsOnCall("p", s, local("2026-12-03T06:30", zone), { outOfOffice: ooo });
    expect(back).toMatchObject({ person: "alice" });
    expect(back.delegatedFrom).toBeUndefined();
  });
});
