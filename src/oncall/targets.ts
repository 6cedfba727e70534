import { channelBlock, channelSpec, channelTargetForms, personChannels, personId } from "../../bots/specs.ts";

/**
 * Escalation targets as written in config, and what each one means. Kept free of channel
 * code so the config schema can validate targets: a target that can never work is a config
 * error naming its key. What a channel's targets look like comes from its spec (bots/spec.ts):
 * `<name>` is its own destinations, `<name>:<id>` an address of its `address` syntax. Targets
 * on a channel that is not configured in this deployment (`email:…` without an `email` block)
 * are accepted and skipped at run time with a warning (and a `clawgate doctor` warning), unless
 * the spec's `whenOff` makes them a config error.
 */
export type Target =
  | { kind: "channel"; channel: string }
  | { kind: "address"; channel: string; id: string }
  | { kind: "person"; person: string }
  | { kind: "oncall"; schedule: string };

/** The parts of the config targets read: every channel's block, people and schedules. */
interface TargetConfig {
  people: Record<string, object>;
  oncall?: { schedules: Record<string, unknown> };
}

/** The target forms users may write, for descriptions and errors: `"log", "slack", "slack:<id>", …`. */
export function targetSyntax(quote = "`"): string {
  return [...channelTargetForms(), "oncall:<schedule>"].map((f) => `${quote}${f}${quote}`).join(", ");
}

/** The meaning of `raw`, or a sentence saying why it cannot be used with this config. */
export function parseTarget(raw: string, config: TargetConfig): Target | string {
  const colon = raw.indexOf(":");
  const head = colon < 0 ? raw : raw.slice(0, colon);
  const rest = colon < 0 ? "" : raw.slice(colon + 1);
  if (head === "person") return person(rest, raw, config);
  if (head === "oncall") {
    if (!rest) return `"${raw}": name the schedule, e.g. "oncall:primary"`;
    if (!config.oncall?.schedules[rest]) return `"${raw}": no schedule "${rest}" in oncall.schedules`;
    return { kind: "oncall", schedule: rest };
  }
  const spec = channelSpec(head);
  if (spec) {
    const block = channelBlock(config, spec);
    const on = block !== undefined && (spec.enabled ? spec.enabled(block) : true);
    if (!on && spec.whenOff) return `"${raw}": ${spec.whenOff}`;
    if (!rest) {
      if (on && spec.noDestination && spec.destinations(block).length === 0) return `"${raw}": ${spec.noDestination}`;
      return { kind: "channel", channel: head };
    }
    if (!spec.address) return `"${raw}": the ${head} channel takes no address; use "${head}"`;
    if (!spec.address.pattern.test(rest)) return `"${raw}": expected ${spec.address.expected} after "${head}:"`;
    return { kind: "address", channel: head, id: spec.normalizeId ? spec.normalizeId(rest) : rest };
  }
  if (colon < 0) return person(raw, raw, config);
  return `"${raw}": unknown target; use ${targetSyntax('"')}, or a person id from people`;
}

function person(id: string, raw: string, config: TargetConfig): Target | string {
  const p = config.people[id];
  if (!p) return `"${raw}": no person "${id}" in people`;
  const fields = personChannels();
  if (!fields.some((c) => personId(p, c))) return `"${raw}": person "${id}" has no ${orList(fields)} id to reach them on`;
  return { kind: "person", person: id };
}

/** "slack, discord or email" */
function orList(items: readonly string[]): string {
  return items.length < 2 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}
