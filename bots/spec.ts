import type { z } from "zod";

/**
 * What clawgate knows about a channel without loading it: the spec a channel folder exports from
 * `bots/<name>/spec.ts`. Config validation, escalation targets, people, on-call, recipients,
 * decision identities, `clawgate doctor` and the adapter registry all iterate the spec list
 * (`bots/specs.ts`), so adding a channel is:
 *
 *   1. a folder `bots/<name>/` with `spec.ts` (this interface) and `index.ts` (the ChannelAdapter,
 *      see src/channel/adapter.ts), plus `templates/<name>.ts` for its message layout;
 *   2. one line in `bots/specs.ts`.
 *
 * A spec module imports only zod and this file (never the channel's SDK, never src/): it is loaded
 * by the config schema, by the gate inside OpenClaw and by every CLI command. Anything heavier goes
 * behind `load` or `doctor`, which are dynamic imports.
 *
 * Example (a chat channel with a config block, `telegram:<chat id>` targets and
 * `people.<id>.telegram`):
 *
 *   export const telegramSpec = defineChannel({
 *     name: "telegram",
 *     label: "Telegram",
 *     config: z.strictObject({ botToken: z.string().min(1), chat: z.string() }).optional(),
 *     destinations: (cfg) => [cfg.chat],
 *     address: { pattern: /^-?\d{1,20}$/, expected: "a numeric Telegram chat id", placeholder: "chat id" },
 *     whenOff: "no telegram block is configured",
 *     person: { describe: "Telegram user id (numeric)" },
 *     grants: (target) => !target.startsWith("-"),
 *     requests: true,
 *     threads: true,
 *     load: async () => (await import("./index.ts")).TelegramChannel,
 *   });
 */
export interface ChannelSpec<N extends string = string, S extends z.ZodType = z.ZodType> {
  /** Config key (`<name>:` block), target head (`<name>`, `<name>:<id>`), identity prefix, queue name. */
  readonly name: N;
  /** How people call it, e.g. "Slack". */
  readonly label: string;
  /**
   * The `<name>:` config block, merged into the one config schema (src/config/schema.ts). Make it
   * `.optional()` (absent = channel off) or give it a `.default(…)` (the log channel).
   */
  readonly config: S;
  /** Whether `serve` runs this channel for a present block; default: the block is present. */
  enabled?(cfg: NonNullable<z.output<S>>): boolean;
  /**
   * The channel's own destinations: what a request goes to, and what a bare `<name>` target in an
   * escalation tier means (Slack's `slack.channel`; one per email approver). Targets compare
   * after `normalizeId`.
   */
  destinations(cfg: NonNullable<z.output<S>>): string[];
  /** Why a bare `<name>` target cannot be used when `destinations` is empty (a config error). Absent: it notifies nobody. */
  readonly noDestination?: string;
  /**
   * Why a target on this channel cannot be used while the channel is off, as a config error,
   * e.g. "no slack block is configured". Absent: such targets are accepted and skipped at run
   * time (a `doctor` warning), so one config can name every channel a team uses.
   */
  readonly whenOff?: string;
  /** `<name>:<id>` targets: how an id looks. Absent: the channel takes no address (`log`). */
  readonly address?: {
    pattern: RegExp;
    /** "a Slack channel id (C…/G…) or user id (U…/W…)", shown in the config error. */
    expected: string;
    /** The `<…>` in the target list shown to users, e.g. "address" → `email:<address>`; default "id". */
    placeholder?: string;
  };
  /** The canonical form of an id on this channel (addresses, people fields, identities); default: as written. */
  normalizeId?(id: string): string;
  /**
   * `people.<id>.<name>`: the field that holds a person's id on this channel. A person is reached
   * there (a direct message, a mail) when `prefer` picks this channel, and a decision made with
   * that id is theirs. Absent: people cannot be reached on it.
   */
  readonly person?: { describe?: string };
  /**
   * Whether notifying `target` gives its owner the right to decide (escalation reach): true for a
   * user id or mailbox, false for a shared channel (whose members still need to be approvers). A
   * decision arriving from this channel then carries the identity `<name>:<normalized id>`.
   * Absent: notifying on it grants nothing (paging, the log).
   */
  grants?(target: string): boolean;
  /** Gets every request when no chain says otherwise (tier 0). false: only an explicit target reaches it (PagerDuty). */
  readonly requests: boolean;
  /**
   * Later notes (escalation, reminders) go into the thread of its earlier message for the approval.
   * false: it gets only its own posts and the final edit (PagerDuty: an incident has no thread).
   */
  readonly threads: boolean;
  /** Its target is a credential (a routing key): logs, audit entries and notes name only the channel. */
  readonly secretTarget?: boolean;
  /** The label its recipients carry in notes ("PagerDuty"); default: the person's name or the target. */
  readonly recipientLabel?: string;
  /**
   * HTTP paths its adapter serves on clawgate's own port (`routes`), e.g. "/slack/events". The
   * self-protection policy denies an agent's calls to them, as to the REST decision routes.
   */
  readonly callbacks?: readonly string[];
  /** `clawgate doctor` probes for a configured channel (dynamic import: may load the channel's code). */
  doctor?(cfg: NonNullable<z.output<S>>): Promise<DoctorCheck[]>;
  /**
   * The adapter class, `new (deps: ChannelDeps) => ChannelAdapter` (src/channel/adapter.ts), by dynamic
   * import of `./index.ts`, so nothing loads an SDK that is not configured. Only `serve` calls it.
   */
  load(): Promise<AdapterClass>;
}

/**
 * What a spec's `load` resolves to, as far as a spec can say: a class whose instances are named.
 * Specs import no src/ types (they load everywhere), so the adapter contract itself —
 * `new (deps: ChannelDeps) => ChannelAdapter` in src/channel/adapter.ts — is applied by
 * bots/registry.ts, the one place that constructs adapters.
 */
export interface AdapterClass {
  new (deps: never): { readonly name: string };
}

/** One line of `clawgate doctor` (the same shape as src/cli/doctor/check.ts's Check). */
export interface DoctorCheck {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
}

/** Any channel spec, whatever its config type (what lists and generic code hold). */
// biome-ignore lint: the config type is erased on purpose for lists of specs.
export type AnyChannelSpec = ChannelSpec<string, any>;

/** Types a spec's callbacks by its config schema; returns the spec unchanged. */
export function defineChannel<const N extends string, S extends z.ZodType>(spec: ChannelSpec<N, S>): ChannelSpec<N, S> {
  return spec;
}

/** The config blocks of a spec list, keyed by channel name: merged into the config schema. */
export type ChannelConfigShape<L extends readonly AnyChannelSpec[]> = { [S in L[number] as S["name"]]: S["config"] };

export function channelConfigShape<const L extends readonly AnyChannelSpec[]>(specs: L): ChannelConfigShape<L> {
  return Object.fromEntries(specs.map((s) => [s.name, s.config])) as ChannelConfigShape<L>;
}
