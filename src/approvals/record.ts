import type { Risk } from "../policy/types.ts";

export const STATES = ["pending", "approved", "denied", "expired", "cancelled"] as const;
export type ApprovalState = (typeof STATES)[number];
export type FinalState = Exclude<ApprovalState, "pending">;
export const DECISION_KINDS = ["allow-once", "allow-always", "deny"] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

export interface Requester {
  channel?: string | undefined;
  accountId?: string | undefined;
  senderId?: string | undefined;
  senderIsOwner?: boolean | undefined;
}

export interface ApprovalRecord {
  id: string;
  tool: string;
  /** Redacted, possibly truncated params as JSON text. */
  params: string;
  paramsHash: string;
  agentId: string;
  sessionKey: string;
  requester: Requester;
  risk: Risk;
  rule: string;
  policyReason: string;
  alwaysAllowRule: string;
  createdAt: number;
  deadline: number;
  state: ApprovalState;
  decision: DecisionKind | "";
  decidedBy: string;
  decidedVia: string;
  decisionReason: string;
  decidedAt: number | null;
  /** Derived (session, tool, params hash), not stored. */
  grantKey: string;
  outcome: string;
  /** The highest escalation tier that has fired (0 = only the first notification). */
  tier: number;
}

/** What a waiter or a refused decider learns about a final approval. */
export interface Resolution {
  id: string;
  state: FinalState;
  decision: DecisionKind | "";
  decidedBy: string;
  decidedVia: string;
  reason: string;
  decidedAt: number;
}

const EMPTY_RISK: Risk = { actionType: "unknown", score: 0, class: "low", reversible: true, systems: [] };

function json<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function recordFromHash(h: Record<string, string>): ApprovalRecord | null {
  if (!h.id || !h.state) return null;
  return {
    id: h.id,
    tool: h.tool ?? "",
    params: h.params ?? "{}",
    paramsHash: h.paramsHash ?? "",
    agentId: h.agentId ?? "",
    sessionKey: h.sessionKey ?? "",
    requester: json<Requester>(h.requester, {}),
    risk: json<Risk>(h.risk, EMPTY_RISK),
    rule: h.rule ?? "",
    policyReason: h.policyReason ?? "",
    alwaysAllowRule: h.alwaysAllowRule ?? "",
    createdAt: Number(h.createdAt ?? 0),
    deadline: Number(h.deadline ?? 0),
    state: (STATES as readonly string[]).includes(h.state) ? (h.state as ApprovalState) : "pending",
    decision: (h.decision ?? "") as DecisionKind | "",
    decidedBy: h.decidedBy ?? "",
    decidedVia: h.decidedVia ?? "",
    decisionReason: h.decisionReason ?? "",
    decidedAt: h.decidedAt ? Number(h.decidedAt) : null,
    grantKey: "",
    outcome: h.outcome ?? "",
    tier: Number(h.tier ?? 0) || 0,
  };
}

export function resolutionOf(r: ApprovalRecord): Resolution | null {
  if (r.state === "pending") return null;
  return {
    id: r.id,
    state: r.state,
    decision: r.decision,
    decidedBy: r.decidedBy,
    decidedVia: r.decidedVia,
    reason: r.decisionReason,
    decidedAt: r.decidedAt ?? 0,
  };
}

const PAST: Record<FinalState, string> = {
  approved: "approved",
  denied: "denied",
  expired: "expired",
  cancelled: "cancelled",
};

/** "approved by alice via slack", "expired (no decision before the deadline)". */
export function describeResolution(r: Pick<Resolution, "state" | "decidedBy" | "decidedVia" | "reason">): string {
  if (r.state === "expired") return "timed out with no decision before the deadline";
  if (r.state === "cancelled") return `cancelled${r.reason ? ` (${r.reason})` : ""}`;
  const who = r.decidedBy ? ` by ${r.decidedBy}` : "";
  const via = r.decidedVia ? ` via ${r.decidedVia}` : "";
  const why = r.reason ? `: ${r.reason}` : "";
  return `${PAST[r.state]}${who}${via}${why}`;
}
