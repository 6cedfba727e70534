import type { OverrideStore } from "./overrides.ts";
import { whoIsOnCall, type OnCall, type OutOfOffice } from "./schedule.ts";
import type { OncallConfig, PersonConfig } from "./schema.ts";
import { parseTime } from "./time.ts";

/** Out-of-office periods per person, as instants (local times read in the person's zone). */
export function outOfOfficeOf(config: { people: Record<string, PersonConfig> }): (person: string) => OutOfOffice[] {
  const cache = new Map<string, OutOfOffice[]>();
  for (const [id, p] of Object.entries(config.people)) {
    const zone = p.timezone ?? "UTC";
    cache.set(
      id,
      p.outOfOffice.map((o) => ({ from: parseTime(o.from, zone) as number, to: parseTime(o.to, zone) as number, delegate: o.delegate })),
    );
  }
  return (person) => cache.get(person) ?? [];
}

/** Answers "who is on call" from config plus the run-time overrides in Redis. */
export class OnCallDirectory {
  private readonly ooo: (person: string) => OutOfOffice[];
  constructor(
    private readonly config: { people: Record<string, PersonConfig>; oncall: OncallConfig },
    private readonly overrides: Pick<OverrideStore, "list"> | null,
  ) {
    this.ooo = outOfOfficeOf(config);
  }

  schedules(): string[] {
    return Object.keys(this.config.oncall.schedules);
  }

  async who(schedule: string, at = Date.now()): Promise<OnCall> {
    const s = this.config.oncall.schedules[schedule];
    if (!s) throw new Error(`no schedule "${schedule}" in oncall.schedules`);
    const overrides = this.overrides ? await this.overrides.list() : [];
    return whoIsOnCall(schedule, s, at, { overrides, outOfOffice: this.ooo });
  }

  /** "Bob" for person bob (people.bob.name, else the id). */
  nameOf(person: string): string {
    return this.config.people[person]?.name ?? person;
  }
}
