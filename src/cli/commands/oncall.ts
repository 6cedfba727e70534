import type { Command } from "commander";
import type { ClawgateConfig } from "../../config/schema.ts";
import { BadRequestError, NotFoundError } from "../../errors.ts";
import { parseDuration } from "../../text/duration.ts";
import { OverrideStore } from "../../oncall/overrides.ts";
import type { OnCall, Override } from "../../oncall/schedule.ts";
import { formatIn, parseTime } from "../../oncall/time.ts";
import { OnCallDirectory } from "../../oncall/who.ts";
import { withContext, type GlobalOptions } from "../shared/context.ts";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function scheduleOf(config: ClawgateConfig, name: string) {
  const s = config.oncall.schedules[name];
  if (!s) {
    const known = Object.keys(config.oncall.schedules);
    throw new NotFoundError(`no schedule "${name}" in oncall.schedules${known.length ? ` (have: ${known.join(", ")})` : " (none configured)"}`);
  }
  return s;
}

function timeArg(text: string, zone: string, what: string): number {
  const at = parseTime(text, zone);
  if (at === null) throw new BadRequestError(`${what}: "${text}" is not a time; use ISO 8601 ("2026-12-01T09:00:00Z"), "2026-12-01 09:00" (the schedule's time zone) or "now"`);
  return at;
}

function whoJson(config: ClawgateConfig, w: OnCall, at: number) {
  return {
    schedule: w.schedule,
    at: iso(at),
    person: w.person,
    name: w.person ? (config.people[w.person]?.name ?? w.person) : null,
    via: w.via,
    ...(w.layer !== undefined ? { layer: w.layer } : {}),
    ...(w.delegatedFrom ? { delegatedFrom: w.delegatedFrom } : {}),
    ...(w.from !== undefined ? { from: iso(w.from), until: iso(w.until) } : {}),
  };
}

function whoLine(config: ClawgateConfig, w: OnCall): string {
  const zone = scheduleOf(config, w.schedule).timezone;
  if (!w.person) return `${w.schedule}: nobody`;
  const how = w.via === "override" ? "override" : w.layer ? `layer ${w.layer}` : "rotation";
  const deleg = w.delegatedFrom ? `, covering for ${w.delegatedFrom.join(" → ")} (out of office)` : "";
  const until = w.until !== undefined ? ` until ${formatIn(w.until, zone)}` : "";
  return `${w.schedule}: ${w.person} (${how}${deleg})${until}`;
}

function overrideLine(config: ClawgateConfig, o: Override): string {
  const zone = config.oncall.schedules[o.schedule]?.timezone ?? "UTC";
  return `${o.id}  ${o.schedule}  ${o.person}  ${formatIn(o.from, zone)} → ${formatIn(o.to, zone)}${o.by ? `  by ${o.by}` : ""}`;
}

export function registerOncallCommands(program: Command, globals: () => GlobalOptions): void {
  const oncall = program.command("oncall").description("on-call schedules: who is on call, and run-time overrides (kept in Redis)");

  oncall
    .command("who")
    .description("who is on call now (or at --at) for every schedule, or one")
    .option("--schedule <name>", "one schedule")
    .option("--at <time>", "ISO 8601, or \"2026-12-01 09:00\" in the schedule's time zone (default now)")
    .option("--json", "print JSON (an object with --schedule, else an array)")
    .action(async (o: { schedule?: string; at?: string; json?: boolean }) => {
      await withContext(globals(), async (ctx) => {
        const names = o.schedule ? [o.schedule] : Object.keys(ctx.config.oncall.schedules);
        for (const n of names) scheduleOf(ctx.config, n);
        const zone = o.schedule ? scheduleOf(ctx.config, o.schedule).timezone : "UTC";
        const at = o.at ? timeArg(o.at, zone, "--at") : Date.now();
        const dir = new OnCallDirectory(ctx.config, new OverrideStore(ctx.redis, ctx.config.redis.prefix));
        const answers = await Promise.all(names.map((n) => dir.who(n, at)));
        if (o.json) {
          const out = answers.map((w) => whoJson(ctx.config, w, at));
          process.stdout.write(`${JSON.stringify(o.schedule ? out[0] : out)}\n`);
          return;
        }
        process.stdout.write(names.length ? `${answers.map((w) => whoLine(ctx.config, w)).join("\n")}\n` : "no schedules (configure oncall.schedules)\n");
      });
    });

  const override = oncall.command("override").description("run-time overrides: someone covers a schedule for a while");
  override
    .command("add")
    .description("e.g. `clawgate oncall override add primary bob --from \"2026-12-01 09:00\" --to \"2026-12-01 17:00\"`")
    .argument("[schedule]", "schedule name (or --schedule)")
    .argument("[person]", "person id from people (or --person)")
    .option("--schedule <name>", "schedule name")
    .option("--person <id>", "person id")
    .option("--from <time>", "start (default now)")
    .option("--to <time>", "end")
    .option("--for <duration>", "length instead of --to, e.g. 8h")
    .option("--json", "print JSON")
    .action(async (argSchedule: string | undefined, argPerson: string | undefined, o: { schedule?: string; person?: string; from?: string; to?: string; for?: string; json?: boolean }) => {
      const schedule = argSchedule ?? o.schedule;
      const person = argPerson ?? o.person;
      if (!schedule || !person) throw new BadRequestError("say which schedule and who covers it: `clawgate oncall override add SCHEDULE PERSON …` (or --schedule, --person)");
      await withContext(globals(), async (ctx) => {
        const s = scheduleOf(ctx.config, schedule);
        if (!Object.hasOwn(ctx.config.people, person)) throw new BadRequestError(`no person "${person}" in people`);
        const from = o.from ? timeArg(o.from, s.timezone, "--from") : Date.now();
        if ((o.to === undefined) === (o.for === undefined)) throw new BadRequestError("give the end with exactly one of --to TIME or --for DURATION");
        let to: number;
        if (o.for !== undefined) {
          const ms = parseDuration(o.for);
          if (!ms) throw new BadRequestError(`--for: "${o.for}" is not a duration; use e.g. 8h, 30m, 2d`);
          to = from + ms;
        } else to = timeArg(o.to as string, s.timezone, "--to");
        if (to <= from) throw new BadRequestError("the override must end after it starts");
        if (to <= Date.now()) throw new BadRequestError("the override ends in the past");
        const added = await new OverrideStore(ctx.redis, ctx.config.redis.prefix).add({ schedule, person, from, to, by: ctx.actor });
        // Audited: an override decides who escalations reach, and so who may approve.
        await ctx.store.appendEvent("oncall.override.added", "", { actor: ctx.actor, reason: `${added.id}: ${person} covers ${schedule} from ${iso(from)} to ${iso(to)}` });
        if (o.json) process.stdout.write(`${JSON.stringify({ ...added, from: iso(added.from), to: iso(added.to) })}\n`);
        else process.stdout.write(`added ${overrideLine(ctx.config, added)}\n`);
      });
    });

  override
    .command("list")
    .description("overrides in Redis (config overrides are in the config file)")
    .option("--schedule <name>", "one schedule")
    .option("--json", "print JSON")
    .action(async (o: { schedule?: string; json?: boolean }) => {
      await withContext(globals(), async (ctx) => {
        const all = (await new OverrideStore(ctx.redis, ctx.config.redis.prefix).list()).filter((x) => !o.schedule || x.schedule === o.schedule);
        if (o.json) process.stdout.write(`${JSON.stringify(all.map((x) => ({ ...x, from: iso(x.from), to: iso(x.to) })))}\n`);
        else process.stdout.write(all.length ? `${all.map((x) => overrideLine(ctx.config, x)).join("\n")}\n` : "no run-time overrides\n");
      });
    });

  override
    .command("remove")
    .description("remove a run-time override by id")
    .argument("<id>", "override id (ov_…)")
    .action(async (id: string) => {
      await withContext(globals(), async (ctx) => {
        if (!(await new OverrideStore(ctx.redis, ctx.config.redis.prefix).remove(id))) throw new NotFoundError(`no run-time override "${id}"`);
        await ctx.store.appendEvent("oncall.override.removed", "", { actor: ctx.actor, reason: id });
        process.stdout.write(`removed ${id}\n`);
      });
    });
}
