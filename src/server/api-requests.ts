import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApprovalRecord } from "../approvals/record.ts";
import type { ApprovalStore } from "../approvals/store.ts";
import type { AskFlow } from "../asks/flow.ts";
import type { InboundDecisions } from "../inbound/decisions.ts";
import { actorOf, type Authenticator, type Identity } from "../auth/authenticate.ts";
import { parseDuration } from "../text/duration.ts";
import { ApprovalNotFoundError, BadRequestError, ForbiddenError } from "../errors.ts";
import type { PolicyEngine } from "../policy/engine.ts";
import { createBody, MAX_WAIT_MS } from "./api-schemas.ts";
import { queryOf, readJson, sendJson, type Router } from "../http/router.ts";

export interface RequestApiDeps {
  store: ApprovalStore;
  /** The one ask flow (the gate's and `clawgate request`'s), and the live policy it judges by. */
  asks: AskFlow;
  engine: () => PolicyEngine;
  authenticate: Authenticator;
  /** The one decision pipeline: who may see an approval's params (its approvers, as on every channel). */
  decisions: InboundDecisions;
  maxBodyBytes: number;
}

function waitOf(value: string | null | undefined): number {
  if (value === null || value === undefined || value === "") return 0;
  const ms = parseDuration(/^\d+$/.test(value) ? `${value}s` : value);
  if (ms === null) throw new BadRequestError(`wait must be a duration like "30s" (at most 5m), got "${value.slice(0, 40)}"`);
  return Math.min(ms, MAX_WAIT_MS);
}

/** Agents see only their own agent's approvals; anyone else's is "not found". */
function visible(who: Identity, record: ApprovalRecord): boolean {
  return who.kind !== "agent" || record.agentId === who.subject;
}

/**
 * The record as `who` may read it: a person token that is not among the approval's approvers
 * (the one rule every channel applies, `InboundDecisions.view`) gets it without its params
 * (`params: ""`, `paramsHidden: true`). Admin tokens read everything; an agent token reads its
 * own agent's calls.
 */
export async function forReader(decisions: InboundDecisions, who: Identity, record: ApprovalRecord): Promise<ApprovalRecord & { paramsHidden?: true }> {
  if (who.kind !== "person") return record;
  const seen = await decisions.view({ identity: { channel: "api", id: actorOf(who).slice("api:".length) }, approvalId: record.id, isChannelApprover: () => true });
  return seen.kind === "shown" ? record : { ...record, params: "", paramsHidden: true };
}

/**
 * The approval API for any agent framework: create an approval (policy first, exactly as the
 * plugin), wait for it by long-poll or server-sent events. The same channels are notified,
 * because `serve` acts on the same event.
 */
export function registerRequestApi(router: Router, deps: RequestApiDeps): void {
  const { store, asks } = deps;

  /** Waits (watching only) until the approval is final or `ms` passed; returns the record as it then is. */
  async function settle(record: ApprovalRecord, ms: number, signal?: AbortSignal): Promise<ApprovalRecord> {
    if (ms <= 0 || record.state !== "pending") return asks.view(record);
    await asks.watch(record, Date.now() + ms, signal);
    return asks.view((await store.get(record.id)) ?? record);
  }

  const closeSignal = (req: IncomingMessage, res: ServerResponse): AbortSignal => {
    const ac = new AbortController();
    // The client went away: stop waiting (the approval itself stays as it is).
    res.on("close", () => ac.abort());
    req.on("aborted", () => ac.abort());
    return ac.signal;
  };

  router.on("POST", "/api/v1/approvals", async (req, res) => {
    const who = await deps.authenticate(req);
    if (who.kind === "person") throw new ForbiddenError(`person token "${who.name}" decides approvals; creating them takes an agent or admin token`);
    const json = await readJson(req, deps.maxBodyBytes, '{"tool": string, "params"?: any, "agentId"?: string, "sessionKey"?: string, "wait"?: "30s"}');
    const parsed = createBody.safeParse(json);
    if (!parsed.success) throw new BadRequestError(`invalid approval request: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    const body = parsed.data;
    const wait = waitOf(body.wait);
    // An agent token speaks for its own agent only, whatever the body says.
    const agentId = who.kind === "agent" ? who.subject : body.agentId;
    // Nobody holds a lease on an API approval: it stays pending until decided or its deadline, whoever polls.
    const call = { tool: body.tool, params: body.params ?? {}, agentId, sessionKey: body.sessionKey, requester: { channel: "api", senderId: actorOf(who).slice("api:".length) } };
    const res0 = await asks.request(deps.engine(), call, { lease: false });
    if (res0.decision !== "ask") {
      sendJson(res, 200, { ok: true, decision: res0.decision, rule: res0.policy.rule, reason: res0.policy.reason });
      return;
    }
    const approval = await settle(res0.approval, wait, closeSignal(req, res));
    if (!res.writableEnded) sendJson(res, 201, { ok: true, decision: "ask", approval });
  });

  router.on("GET", "/api/v1/approvals/:id", async (req, res, p) => {
    const who = await deps.authenticate(req);
    const wait = waitOf(queryOf(req).get("wait"));
    const record = await store.require(p.id as string);
    if (!visible(who, record)) throw new ApprovalNotFoundError(p.id as string);
    const approval = await settle(record, wait, closeSignal(req, res));
    if (!res.writableEnded) sendJson(res, 200, { ok: true, approval: await forReader(deps.decisions, who, approval) });
  });

  router.on("GET", "/api/v1/approvals/:id/events", async (req, res, p) => {
    const who = await deps.authenticate(req);
    const record = await store.require(p.id as string);
    if (!visible(who, record)) throw new ApprovalNotFoundError(p.id as string);
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    const shown = await forReader(deps.decisions, who, record);
    const send = (r: ApprovalRecord) => res.write(`event: approval\nid: ${r.state}\ndata: ${JSON.stringify(shown.paramsHidden ? { ...r, params: "", paramsHidden: true } : r)}\n\n`);
    send(record);
    if (record.state !== "pending") return void res.end();
    const signal = closeSignal(req, res);
    // Comments keep proxies from closing an idle stream.
    const ping = setInterval(() => res.write(": keepalive\n\n"), 15_000);
    try {
      const final = await settle(record, Math.max(0, record.deadline - Date.now()) + 2_000, signal);
      if (!signal.aborted) send(final);
    } finally {
      clearInterval(ping);
      res.end();
    }
  });
}
