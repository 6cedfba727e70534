import {
  ApplicationCommandOptionType,
  InteractionResponseType,
  InteractionType,
  type APIApplicationCommandInteractionDataOption,
  type APIInteraction,
  type APIInteractionResponse,
} from "discord.js";
import type { ApprovalRecord, DecisionKind } from "../../src/approvals/record.ts";
import { ClawgateError, toChatReply } from "../../src/errors.ts";
import type { CheckOutcome, DecisionOutcome, InboundDecisions } from "../../src/inbound/decisions.ts";
import type { Identity } from "../../src/inbound/identity.ts";
import { parseVerb, runVerb } from "../../src/inbound/verbs.ts";
import type { Logger } from "../../src/log.ts";
import { CUSTOM, REASON_INPUT, alwaysConfirm, denyModal, ephemeral, paramsMessage, parseCustomId } from "../../templates/discord.ts";

export interface InteractionDeps {
  decisions: InboundDecisions;
  approvers: { users: string[]; roles: string[] };
  log: Logger;
}

type Options = APIApplicationCommandInteractionDataOption[];
const reply = (text: string): APIInteractionResponse => ({ type: InteractionResponseType.ChannelMessageWithSource, data: ephemeral(text) });
/** Acknowledges a click or form without changing the message: the update job edits every message. */
const ACK_UPDATE: APIInteractionResponse = { type: InteractionResponseType.DeferredMessageUpdate };

/** Who clicked: the member in a server (with the roles Discord vouches for), the user in a DM. */
function identityOf(i: APIInteraction): Identity {
  if (i.member) return { channel: "discord", id: i.member.user.id, roles: i.member.roles };
  return { channel: "discord", id: i.user?.id ?? "" };
}

/**
 * Every interaction — button, modal, `/clawgate` command, autocomplete — becomes the answer
 * Discord expects. Decisions go through the one inbound path (identity → authorize → decide),
 * whose refusals are audited and leave the approval pending; the command is the shared verbs.
 * The same function serves HTTP interactions and the Gateway.
 */
export class DiscordInteractions {
  constructor(private readonly deps: InteractionDeps) {}

  readonly isApprover = (i: Identity): boolean => this.deps.approvers.users.includes(i.id) || (i.roles ?? []).some((r) => this.deps.approvers.roles.includes(r));

  async handle(i: APIInteraction): Promise<APIInteractionResponse> {
    switch (i.type) {
      case InteractionType.Ping:
        return { type: InteractionResponseType.Pong };
      case InteractionType.ApplicationCommand:
        return this.command(i.data.name, identityOf(i), "options" in i.data ? ((i.data.options ?? []) as Options) : []);
      case InteractionType.ApplicationCommandAutocomplete:
        return this.autocomplete((i.data.options ?? []) as Options);
      case InteractionType.MessageComponent:
        return this.component(i.data.custom_id, identityOf(i));
      case InteractionType.ModalSubmit: {
        const { action, id } = parseCustomId(i.data.custom_id);
        if (action !== CUSTOM.denyModal) return reply(`unknown form "${i.data.custom_id}"`);
        const input = i.data.components.flatMap((row) => ("components" in row ? row.components : "component" in row ? [row.component] : [])).find((c) => "custom_id" in c && c.custom_id === REASON_INPUT);
        const reason = (input && "value" in input ? String(input.value) : "").trim();
        if (!reason) return reply("a denial needs a reason (the agent sees it)");
        return this.decide(identityOf(i), id, "deny", reason);
      }
    }
  }

  /** The pipeline's outcome, rendered: a decision acknowledges the click (the update job edits every message), anything else answers the clicker alone. */
  private render(out: DecisionOutcome | CheckOutcome): APIInteractionResponse | null {
    if (out.kind === "decided" || out.kind === "allowed") return null;
    return reply(`${out.kind === "refused" ? "⛔" : "ℹ️"} ${toChatReply(out.error)}`);
  }

  private async decide(identity: Identity, id: string, decision: DecisionKind, reason?: string): Promise<APIInteractionResponse> {
    const out = await this.deps.decisions.run({ identity, approvalId: id, decision, ...(reason ? { reason } : {}), isChannelApprover: this.isApprover });
    return this.render(out) ?? ACK_UPDATE;
  }

  /** The pipeline up to the decision (refusals recorded): the pending record, or the answer to give instead. */
  private async check(identity: Identity, id: string, decision: DecisionKind): Promise<{ record: ApprovalRecord } | { answer: APIInteractionResponse }> {
    const out = await this.deps.decisions.check({ identity, approvalId: id, decision, isChannelApprover: this.isApprover });
    return out.kind === "allowed" ? { record: out.record } : { answer: this.render(out) as APIInteractionResponse };
  }

  private async component(customId: string, identity: Identity): Promise<APIInteractionResponse> {
    const { action, id } = parseCustomId(customId);
    switch (action) {
      case CUSTOM.approve:
        return this.decide(identity, id, "allow-once");
      case CUSTOM.alwaysConfirm: {
        const out = await this.deps.decisions.run({ identity, approvalId: id, decision: "allow-always", isChannelApprover: this.isApprover });
        if (out.kind !== "decided") return this.render(out) as APIInteractionResponse;
        return { type: InteractionResponseType.UpdateMessage, data: { content: `✅ Approved ${id}; saved rule \`${out.record.alwaysAllowRule}\``, components: [] } };
      }
      case CUSTOM.always: {
        const checked = await this.check(identity, id, "allow-always");
        if ("answer" in checked) return checked.answer;
        const { record } = checked;
        if (!record.alwaysAllowRule) return reply("ℹ️ this request cannot be always-allowed; use Approve");
        return { type: InteractionResponseType.ChannelMessageWithSource, data: alwaysConfirm(record) };
      }
      case CUSTOM.deny: {
        const checked = await this.check(identity, id, "deny");
        if ("answer" in checked) return checked.answer;
        return { type: InteractionResponseType.Modal, data: denyModal(checked.record) };
      }
      case CUSTOM.params: {
        // Full params are for the approval's approvers only (pending or decided), even though secrets are redacted.
        const seen = await this.deps.decisions.view({ identity, approvalId: id, isChannelApprover: this.isApprover });
        if (seen.kind === "not-found") return reply(`ℹ️ ${toChatReply(seen.error)}`);
        if (seen.kind === "refused") return reply(`⛔ ${seen.why}`);
        return { type: InteractionResponseType.ChannelMessageWithSource, data: paramsMessage(seen.record) };
      }
      default:
        return reply(`unknown button "${customId}"`);
    }
  }

  /** `/clawgate pending|show|approve|deny`: options → the shared verb text → parseVerb/runVerb. */
  private async command(name: string, identity: Identity, options: Options): Promise<APIInteractionResponse> {
    if (name !== "clawgate") return reply(`unknown command /${name}`);
    const sub = options.find((o) => o.type === ApplicationCommandOptionType.Subcommand);
    const args = new Map<string, unknown>();
    for (const o of sub && "options" in sub ? (sub.options ?? []) : []) if ("value" in o) args.set(o.name, o.value);
    const words = [sub?.name ?? "pending"];
    if (args.has("id")) words.push(String(args.get("id")));
    if (args.get("always") === true) words.push("--always");
    if (args.has("reason")) words.push(String(args.get("reason")));
    try {
      const result = await runVerb(this.deps.decisions, parseVerb(words.join(" ")), { identity, isChannelApprover: this.isApprover });
      return reply(result.verb === "pending" || result.verb === "show" ? "```\n" + result.text.replace(/```/g, "ˋˋˋ").slice(0, 1_980) + "\n```" : result.text);
    } catch (err) {
      if (!(err instanceof ClawgateError)) throw err;
      return reply(toChatReply(err));
    }
  }

  /** Pending ids matching what is typed so far (25 choices at most, Discord's limit). */
  private async autocomplete(options: Options): Promise<APIInteractionResponse> {
    const focused = options.flatMap((o) => ("options" in o ? (o.options ?? []) : [o])).find((o) => "focused" in o && o.focused);
    const typed = focused && "value" in focused ? String(focused.value).toLowerCase() : "";
    const records = await this.deps.decisions.service.store.list({ state: "pending", limit: 100 });
    const choices = records
      .filter((r) => r.id.toLowerCase().includes(typed) || r.tool.toLowerCase().includes(typed))
      .slice(0, 25)
      .map((r) => ({ name: `${r.id} ${r.tool} ${r.agentId || ""}`.trim().slice(0, 100), value: r.id }));
    return { type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices } };
  }
}
