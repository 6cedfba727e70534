/**
 * A small typed client for clawgate's approval API, for any agent framework (LangGraph, CrewAI,
 * a plain script): put a human in the loop through the same channels the OpenClaw plugin uses.
 *
 *   import { requestApproval } from "clawgate/client";
 *   const r = await requestApproval({ url: "http://127.0.0.1:8787", token: process.env.CLAWGATE_TOKEN!, tool: "deploy", params: { service: "web" } });
 *   if (!r.approved) throw new Error(r.reason);
 *
 * Dependency-free (global fetch, Node ≥ 18), so it can be copied or bundled anywhere.
 */
export interface RequestApprovalOptions {
  /** Base URL of `clawgate serve`, e.g. http://127.0.0.1:8787 */
  url: string;
  /** An agent token (`clawgate token create NAME --agent ID`) or an admin token. */
  token: string;
  tool: string;
  params?: unknown;
  agentId?: string;
  sessionKey?: string;
  /** How long one long-poll may last (server caps it at 5 min). Default 25 s. */
  pollSeconds?: number;
  /** Stop waiting (the approval stays pending; it expires at its deadline). */
  signal?: AbortSignal;
}

export type ApprovalOutcome = "allowed" | "denied-by-policy" | "approved" | "denied" | "expired" | "cancelled";

export interface ApprovalResult {
  /** true when the call may run: allowed by policy, or approved by a person. */
  approved: boolean;
  outcome: ApprovalOutcome;
  /** The approval's id, when a person was asked. */
  id?: string;
  /** Why: the policy's reason, or who decided and what they said. */
  reason: string;
  decidedBy?: string;
  decidedVia?: string;
}

export class ClawgateApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ClawgateApiError";
  }
}

interface ApprovalJson {
  id: string;
  state: "pending" | "approved" | "denied" | "expired" | "cancelled";
  decidedBy: string;
  decidedVia: string;
  decisionReason: string;
  policyReason: string;
}

async function call<T>(opts: RequestApprovalOptions, path: string, init: { method: string; body?: unknown }): Promise<T> {
  const res = await fetch(new URL(path, opts.url), {
    method: init.method,
    headers: { authorization: `Bearer ${opts.token}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const json = (await res.json().catch(() => ({}))) as { ok?: boolean; error?: { code?: string; message?: string } } & T;
  if (!res.ok || json.ok === false) throw new ClawgateApiError(res.status, json.error?.code ?? "http_error", json.error?.message ?? `HTTP ${res.status}`);
  return json;
}

function outcomeOf(a: ApprovalJson): ApprovalResult {
  const approved = a.state === "approved";
  const who = a.decidedBy ? ` by ${a.decidedBy} via ${a.decidedVia}` : "";
  const reason = a.state === "expired" ? "no decision before the deadline" : `${a.state}${who}${a.decisionReason ? `: ${a.decisionReason}` : ""}`;
  return { approved, outcome: a.state as ApprovalOutcome, id: a.id, reason, ...(a.decidedBy ? { decidedBy: a.decidedBy, decidedVia: a.decidedVia } : {}) };
}

/** Asks clawgate; resolves once the policy or a person has decided (or the approval expired). */
export async function requestApproval(opts: RequestApprovalOptions): Promise<ApprovalResult> {
  const wait = `${Math.max(1, Math.min(300, Math.round(opts.pollSeconds ?? 25)))}s`;
  const created = await call<{ decision: "allow" | "deny" | "ask"; reason?: string; approval?: ApprovalJson }>(opts, "/api/v1/approvals", {
    method: "POST",
    body: { tool: opts.tool, params: opts.params ?? {}, agentId: opts.agentId, sessionKey: opts.sessionKey, wait },
  });
  if (created.decision === "allow") return { approved: true, outcome: "allowed", reason: created.reason ?? "" };
  if (created.decision === "deny") return { approved: false, outcome: "denied-by-policy", reason: created.reason ?? "" };
  let approval = created.approval as ApprovalJson;
  while (approval.state === "pending") {
    approval = (await call<{ approval: ApprovalJson }>(opts, `/api/v1/approvals/${encodeURIComponent(approval.id)}?wait=${wait}`, { method: "GET" })).approval;
  }
  return outcomeOf(approval);
}
