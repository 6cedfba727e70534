import type { Risk } from "../policy/types.ts";

export const STATES = ["pending", "approved", "denied", "expired", "cancelled"] as const;
export type ApprovalState = (typeof STATES)[number];
export type FinalState = Exclude<ApprovalState, "pending">;
const DECISION_KINDS = ["allow-once", "allow-always", "deny"] as const;
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
  /** The approving decision's signature, `<key id>.<base64url>` ("" otherwise); see src/trust. */
  sig: string;
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
  /** An approval's signature; what the gate verifies before it lets a call run. */
  sig?: string | undefined;
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

/**
 * Risk as stored: `actionType|score|class|reversible(1/0)|system,system` (~20 bytes instead of
 * ~80 of JSON, so the record's hash can stay within Redis's compact listpack encoding). JSON is
 * kept for values that would not split back cleanly, and read for records stored before.
 */
export function encodeRisk(r: Risk): string {
  const parts = [r.actionType, String(r.score), r.class, r.reversible ? "1" : "0"];
  if (parts.some((p) => p.includes("|")) || r.systems.some((x) => x.includes(",") || x.includes("|") || x === "")) return JSON.stringify(r);
  return `${parts.join("|")}|${r.systems.join(",")}`;
}

function decodeRisk(text: string | undefined): Risk {
  if (!text) return EMPTY_RISK;
  if (text.startsWith("{")) return json<Risk>(text, EMPTY_RISK);
  const [actionType, score, cls, reversible, systems] = text.split("|");
  if (systems === undefined) return EMPTY_RISK;
  return { actionType: actionType as Risk["actionType"], score: Number(score), class: cls as Risk["class"], reversible: reversible === "1", systems: systems === "" ? [] : systems.split(",") };
}

/**
 * Redis keeps a hash in its compact listpack encoding only while every value is ≤ 64 bytes
 * (hash-max-listpack-value): one longer value makes the whole record a hashtable, about three
 * times the memory. So long text fields are stored in ≤ 64-byte pieces: `params`, `params~1`,
 * `params~2`, … (split on character boundaries); readers join them. Records stored whole (by
 * earlier versions) read the same.
 */
const CHUNK_BYTES = 64;
export const CHUNKED_FIELDS: ReadonlySet<string> = new Set(["params", "policyReason", "alwaysAllowRule", "rule", "requester", "sig"]);

export function chunk(value: string): string[] {
  if (Buffer.byteLength(value) <= CHUNK_BYTES) return [value];
  const out: string[] = [];
  let cur = "";
  let bytes = 0;
  for (const ch of value) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > CHUNK_BYTES) {
      out.push(cur);
      cur = "";
      bytes = 0;
    }
    cur += ch;
    bytes += n;
  }
  if (cur) out.push(cur);
  return out;
}

/** A field as written by chunk(): its first piece, then `name~1`, `name~2`, … */
function joined(h: Record<string, string>, name: string): string | undefined {
  const first = h[name];
  if (first === undefined || h[`${name}~1`] === undefined) return first;
  let out = first;
  for (let i = 1; h[`${name}~${i}`] !== undefined; i++) out += h[`${name}~${i}`];
  return out;
}

export function recordFromHash(h: Record<string, string>): ApprovalRecord | null {
  if (!h.id || !h.state) return null;
  return {
    id: h.id,
    tool: h.tool ?? "",
    params: joined(h, "params") ?? "{}",
    paramsHash: h.paramsHash ?? "",
    agentId: h.agentId ?? "",
    sessionKey: h.sessionKey ?? "",
    requester: json<Requester>(joined(h, "requester"), {}),
    risk: decodeRisk(h.risk),
    rule: joined(h, "rule") ?? "",
    policyReason: joined(h, "policyReason") ?? "",
    alwaysAllowRule: joined(h, "alwaysAllowRule") ?? "",
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
    sig: joined(h, "sig") ?? "",
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
    ...(r.sig ? { sig: r.sig } : {}),
  };
}

/**
 * Why clawgate itself closed an approval (stored as its decision reason, shown on every card).
 * The gate tells the agent which one happened: a run it aborted, or a wait it lost.
 */
export const CLOSE_REASONS = {
  deadline: "no decision before the deadline",
  aborted: "run aborted",
  abandoned: "the gateway stopped waiting before the request was created",
  /** `clawgate request --wait` was interrupted (Ctrl-C, SIGTERM) while it waited. */
  requesterStopped: "the requester stopped waiting",
  /** `clawgate request` was interrupted before its create answered. */
  requesterAbandoned: "the requester stopped before the request was created",
  leaseLapsedPrefix: "lease lapsed",
  leaseLapsed: (leaseMs: number) =>
    `lease lapsed: the gateway waiting for this decision went away (no lease renewal for ${Math.round(leaseMs / 1000)} s and no Redis connection: it exited, crashed or was cut off from Redis)`,
} as const;

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
