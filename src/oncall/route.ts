import picomatch from "picomatch";
import type { ApprovalRecord } from "../approvals/record.ts";
import { RISK_CLASSES, type Chain, type EscalationConfig, type Route } from "./chain-schema.ts";

/** A chain ready to run: tier 0 is notified with the request. */
export interface EffectiveChain {
  name: string;
  chain: Chain;
  route: Route | null;
}

const MIN_GAP = 60_000;

function matches(route: Route, record: Pick<ApprovalRecord, "tool" | "agentId" | "risk">): boolean {
  const m = route.match;
  if (m.tool !== undefined && !picomatch.isMatch(record.tool, m.tool)) return false;
  if (m.agent !== undefined && !picomatch.isMatch(record.agentId || "", m.agent)) return false;
  if (m.riskAtLeast !== undefined) {
    if (typeof m.riskAtLeast === "number") return record.risk.score >= m.riskAtLeast;
    return RISK_CLASSES.indexOf(record.risk.class) >= RISK_CLASSES.indexOf(m.riskAtLeast);
  }
  return true;
}

/**
 * The chain for an approval: the first route that matches, else `chains.default`, else the
 * legacy form (every enabled channel's destination, then `escalation.tiers`), which is also
 * today's behaviour when nothing about escalation is configured.
 */
/** The first route matching the approval, if any. */
export function routeFor(config: { escalation: EscalationConfig }, record: Pick<ApprovalRecord, "tool" | "agentId" | "risk">): Route | null {
  const { chains, routes } = config.escalation;
  return routes.find((r) => chains[r.chain] && matches(r, record)) ?? null;
}

export function chainFor(config: { escalation: EscalationConfig }, record: Pick<ApprovalRecord, "tool" | "agentId" | "risk">, channels: readonly string[]): EffectiveChain {
  const { chains, tiers } = config.escalation;
  const route = routeFor(config, record);
  const routed = route ? chains[route.chain] : undefined;
  if (route && routed) return { name: route.chain, chain: routed, route };
  if (chains.default) return { name: "default", chain: chains.default, route: null };
  return {
    name: "default",
    chain: { tiers: [{ after: 0, notify: [...channels] }, ...tiers], repeat: 0, end: "wait" },
    route: null,
  };
}

/** One scheduled step of a chain, `at` ms after the request. */
export type Step = { kind: "tier"; tier: number; index: number; at: number } | { kind: "end"; at: number; reason: string } | { kind: "remind"; at: number };

/**
 * When each tier (every pass when it repeats), the end action and the reminder are due, as
 * offsets from the request. Tier numbers run on across passes: with 3 tiers and repeat 1,
 * tiers 3–5 are the second pass. Steps at or after the deadline are left out.
 */
export function chainSteps(chain: Chain, ttl: number): Step[] {
  const out: Step[] = [];
  const n = chain.tiers.length;
  const last = chain.tiers[n - 1]?.after ?? 0;
  let at = 0;
  for (let pass = 0; pass <= chain.repeat; pass++) {
    chain.tiers.forEach((t, i) => {
      if (pass > 0 && i === 0) at += chain.repeatAfter ?? Math.max(last, MIN_GAP);
      else at += t.after;
      out.push({ kind: "tier", tier: pass * n + i, index: i, at });
    });
  }
  if (chain.end !== "wait") {
    out.push({ kind: "end", at: at + (chain.end.after ?? Math.max(last, MIN_GAP)), reason: chain.end.deny });
  }
  if (chain.remindBefore !== undefined) out.push({ kind: "remind", at: ttl - chain.remindBefore });
  return out.filter((s) => s.at < ttl && s.at >= 0);
}

/** How many tier numbers a chain can use (for removing its jobs): its tiers times its passes. */
export function tierCount(chain: Chain): number {
  return chain.tiers.length * (chain.repeat + 1);
}

/** The largest tier count of any chain the config can pick. */
export function maxTiers(config: { escalation: EscalationConfig }): number {
  const counts = Object.values(config.escalation.chains).map(tierCount);
  return Math.max(config.escalation.tiers.length + 1, ...counts);
}
