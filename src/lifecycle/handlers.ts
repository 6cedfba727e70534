import type { AuditEvent } from "../audit/event.ts";
import { createdData, escalatedData, finalData, refusedData, auditOnlyData, type LifecycleEvent } from "../approvals/events.ts";
import type { ApprovalStore } from "../approvals/store.ts";
import type { ClawgateConfig } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { JobProducer } from "../../queue/producer.ts";
import { jobIds } from "../../queue/names.ts";
import { parseIdentityKey, People } from "../inbound/identity.ts";
import { OverrideStore } from "../oncall/overrides.ts";
import { chainSteps, maxTiers, tierCount } from "../oncall/route.ts";
import { OnCallDirectory } from "../oncall/who.ts";
import { notifyPriority, settle } from "./fairness.ts";
import { channelSpec } from "../../bots/specs.ts";
import { factsOf } from "./facts.ts";
import { identitiesOf } from "./recipients.ts";
import { decodeRefEntry } from "../../queue/refEntry.ts";
import type { Recipient } from "../approvals/events.ts";
import { resolutionOf, type ApprovalRecord } from "../approvals/record.ts";
import type { RulesWriter } from "../approvals/runtime-rules.ts";
import { verifyResolution } from "../trust/decisions.ts";
import type { KeyLookup } from "../trust/signature.ts";

export interface AuditSink {
  append(event: AuditEvent, opts?: { dedupeKey?: string }): Promise<unknown>;
}

export interface HandlerDeps {
  config: ClawgateConfig;
  store: ApprovalStore;
  producer: JobProducer;
  audit: AuditSink;
  /** Channels serve runs (an approval that ends gets an update job in each that has a message for it). */
  channels: readonly string[];
  metrics?: Pick<Metrics, "resolved" | "latency" | "events" | "forgeries">;
  log: Logger;
  /**
   * Saves allow-always rules into the signed runtime rules: the backstop for a decision whose
   * rule was not saved when it was made (a gateway's chat decision, or serve dying in between).
   * The decision's own signature is checked first, so a record edited in Redis saves nothing.
   */
  alwaysAllow?: { keys: KeyLookup; rules: RulesWriter };
}

function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as T;
}

/**
 * What `serve` does for each lifecycle event. Every step is idempotent (job ids, the refs
 * check in the notify worker, the audit dedupe key = the stream entry id), so handling an
 * event twice after a crash changes nothing.
 */
export function lifecycleHandler(deps: HandlerDeps): (ev: LifecycleEvent) => Promise<void> {
  const { config, store, producer, log } = deps;
  const audit = (ev: LifecycleEvent, entry: AuditEvent) => deps.audit.append(strip(entry), { dedupeKey: ev.streamId });
  const people = new People(config);
  const resolveDeps = { config, directory: new OnCallDirectory(config, new OverrideStore(store.redis, config.redis.prefix)), log };
  /** The approval's facts fixed when serve first saw it: its chain, route approvers and tier-0 recipients. */
  const facts = (record: ApprovalRecord) => factsOf(resolveDeps, store, record);
  /** The person behind an actor ("slack:U0ALICE" → "alice"), for the audit entry. */
  const personOf = (actor: string) => {
    const identity = parseIdentityKey(actor);
    return identity ? people.personOf(identity) : null;
  };

  /**
   * A gate refused an allow-always whose rule is not the one it offered: the rule was changed in
   * Redis after the request was made, and a person approved the changed one. If serve saved that
   * rule, it is withdrawn (a signed unset) and the withdrawal audited: no rule the gate did not
   * offer stays saved.
   */
  const withdrawChangedRule = async (id: string, offered: string) => {
    const record = await store.get(id);
    const saved = record?.alwaysAllowRule;
    if (!record || record.decision !== "allow-always" || !saved || saved === offered || !deps.alwaysAllow) return;
    const r = resolutionOf(record);
    const v = r ? verifyResolution(deps.alwaysAllow.keys, r, { id, paramsHash: record.paramsHash, rule: saved }) : null;
    if (!v?.ok) return;
    try {
      await deps.alwaysAllow.rules.unset(saved, "clawgate");
      log.error({ approvalId: id, saved, offered }, "withdrew an allow-always rule that was changed in Redis after the request was made");
      await store.appendEvent("rules.changed", id, { actor: "clawgate", rule: saved, reason: `withdrawn: the gate offered "${offered}"; the rule was changed in Redis before it was approved` });
    } catch {
      // Not saved (or already withdrawn): nothing to take back.
    }
  };

  /**
   * The channels that have a message for the approval, posted or being posted (a posting intent:
   * its job finds the post, or edits it itself once saved). Only they get an update job: edits
   * are proportional to cards, not to channels × approvals. A post that starts after this read
   * sees the approval final and posts nothing; one that saved its ref after it edits its own
   * message (queue/workers.ts).
   */
  const channelsWithMessages = async (id: string): Promise<string[]> => {
    const found = new Set<string>();
    for (const [key, text] of Object.entries(await store.refs(id))) {
      const channel = key.split("|")[0] ?? "";
      if (deps.channels.includes(channel) && decodeRefEntry(text)) found.add(channel);
    }
    return [...found];
  };

  return async (ev) => {
    deps.metrics?.events.inc({ type: ev.type });
    switch (ev.type) {
      case "approval.created": {
        const d = createdData.parse(ev.data);
        const record = await store.get(ev.id);
        // Decided (or gone) before we got here: its final event does the rest.
        if (record?.state === "pending") {
          // Fairness: agents take turns, then each agent's sessions (src/lifecycle/fairness.ts).
          const priority = await notifyPriority(store, record);
          // Fixed now, for the approval's whole life: whoever decides or escalates later reads
          // these, so a config reload or an on-call rotation changes nothing for it.
          const fixed = await facts(record);
          // People the first tier reaches directly may decide, like those of later tiers.
          await store.addNotified(ev.id, identitiesOf(fixed.recipients));
          await producer.notify(ev.id, fixed.recipients, 0, "request", priority);
          await producer.escalations(ev.id, record.createdAt, chainSteps(fixed.schedule, record.deadline - record.createdAt));
        }
        await audit(ev, { type: "approval.created", approvalId: ev.id, tool: d.tool, agentId: d.agentId, reason: d.reason, details: { rule: d.rule, risk: d.risk, session: d.sessionKey } });
        return;
      }
      case "approval.decided":
      case "approval.expired":
      case "approval.cancelled": {
        const d = finalData.parse(ev.data);
        const record = await store.get(ev.id);
        // The tier-0 jobs are the ones the request went out with (its fixed facts), whoever is on call now.
        const fixed = record ? await facts(record) : null;
        const notifyJobs = (fixed?.recipients ?? []).map((r) => ({ channel: r.channel, jobId: jobIds.notify(ev.id, r.channel, r.target, 0) }));
        await producer.dropPending(ev.id, notifyJobs, fixed ? Math.max(tierCount(fixed.schedule), maxTiers(config)) : maxTiers(config));
        if (record) await settle(store, record);
        await producer.updates(ev.id, await channelsWithMessages(ev.id));
        deps.metrics?.resolved.inc({ state: d.state, via: d.via || "clawgate" });
        if (record) deps.metrics?.latency.observe({ state: d.state }, Math.max(0, (ev.at - record.createdAt) / 1000));
        const type = d.state === "expired" ? "approval.expired" : d.state === "cancelled" ? "approval.cancelled" : "decision";
        const person = personOf(d.by);
        let signature: string | undefined;
        if (d.state === "approved" && record && deps.alwaysAllow) {
          const r = resolutionOf(record);
          const v = r ? verifyResolution(deps.alwaysAllow.keys, r, { id: record.id, paramsHash: record.paramsHash, rule: record.alwaysAllowRule }) : null;
          signature = v?.ok ? `valid (key ${v.key?.id})` : `INVALID: ${v && !v.ok ? v.why : "no record"}`;
          if (v && !v.ok) {
            deps.metrics?.forgeries.inc({ kind: "approval" });
            log.error({ approvalId: ev.id, by: d.by, via: d.via, why: v.why }, "an approval in Redis is not validly signed: no gate honours it");
          } else if (d.decision === "allow-always" && record.alwaysAllowRule) {
            await deps.alwaysAllow.rules.addAlwaysAllow(record.alwaysAllowRule, d.by);
          }
        }
        await audit(ev, {
          type,
          approvalId: ev.id,
          actor: d.by,
          channel: d.via,
          decision: d.decision || d.state,
          reason: d.reason,
          tool: record?.tool,
          agentId: record?.agentId,
          ...(person || signature || (d.decision === "allow-always" && record?.alwaysAllowRule)
            ? { details: strip({ person: person ?? undefined, savedRule: d.decision === "allow-always" ? record?.alwaysAllowRule : undefined, signature }) }
            : {}),
        });
        log.info({ approvalId: ev.id, state: d.state, by: d.by, via: d.via }, "approval resolved");
        return;
      }
      case "approval.escalated": {
        const d = escalatedData.parse(ev.data);
        const record = await store.get(ev.id);
        if (record?.state === "pending") {
          const priority = await notifyPriority(store, record);
          await producer.notify(ev.id, d.recipients, d.tier, "escalated", priority);
          // Everyone reached before learns who it went to, in their message's thread.
          const names = d.recipients.map((r) => r.label ?? `${r.channel}:${r.target}`).join(", ");
          const fresh = new Set(d.recipients.map((r) => `${r.channel}|${r.target}`));
          const earlier = new Map<string, Recipient>();
          for (const key of Object.keys(await store.refs(ev.id))) {
            const [channel = "", target = "", tier = "0"] = key.split("|");
            if (Number(tier) >= d.tier || !channelSpec(channel)?.threads || fresh.has(`${channel}|${target}`)) continue;
            earlier.set(`${channel}|${target}`, { channel, target, ...(names ? { label: names } : {}) });
          }
          if (names) await producer.notify(ev.id, [...earlier.values()], d.tier, "escalated", priority);
        }
        await audit(ev, {
          type: "approval.escalated",
          approvalId: ev.id,
          tool: record?.tool,
          // A secret target (a PagerDuty routing key): name the channel, not the key.
          details: { tier: d.tier, recipients: d.recipients.map((r) => r.person ?? (channelSpec(r.channel)?.secretTarget ? r.channel : `${r.channel}:${r.target}`)) },
        });
        return;
      }
      case "approval.refused": {
        const d = refusedData.parse(ev.data);
        const person = personOf(d.actor);
        await audit(ev, { type: "refusal", approvalId: ev.id, actor: d.actor, channel: d.via, decision: d.decision, reason: d.why, ...(person ? { details: { person } } : {}) });
        return;
      }
      case "approval.forged":
      case "rules.refused": {
        const d = auditOnlyData.parse(ev.data);
        if (ev.type === "approval.forged" && d.decision === "allow-always" && deps.alwaysAllow) await withdrawChangedRule(ev.id, d.rule ?? "");
        deps.metrics?.forgeries.inc({ kind: ev.type === "approval.forged" ? "approval" : "rules" });
        await audit(ev, { type: "forgery", approvalId: ev.id || undefined, actor: d.actor, channel: d.via, reason: d.reason, details: { what: ev.type === "approval.forged" ? "approval" : `runtime rules (${d.decision ?? "refused"})` } });
        return;
      }
      case "rules.changed": {
        const d = auditOnlyData.parse(ev.data);
        await audit(ev, { type: "rules.changed", actor: d.actor, reason: d.reason, ...(d.rule ? { details: { rule: d.rule } } : {}) });
        return;
      }
      case "policy.denied":
      case "policy.override.set":
      case "policy.override.unset":
      case "tool.outcome":
      case "token.created":
      case "token.revoked":
      case "oncall.override.added":
      case "oncall.override.removed": {
        const d = auditOnlyData.parse(ev.data);
        await audit(ev, {
          type: ev.type,
          approvalId: ev.id || undefined,
          actor: d.actor,
          tool: d.tool,
          agentId: d.agentId,
          reason: d.reason,
          decision: d.decision,
          ...(d.rule ? { details: { rule: d.rule } } : {}),
        });
        return;
      }
    }
  };
}
