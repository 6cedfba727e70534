import { forReader } from "./api-requests.ts";
import { decisionBody } from "./api-schemas.ts";
import { STATES, type ApprovalState } from "../approvals/record.ts";
import type { InboundDecisions } from "../inbound/decisions.ts";
import { actorOf, type Authenticator } from "../auth/authenticate.ts";
import { BadRequestError, ForbiddenError } from "../errors.ts";
import { queryOf, readJson, sendJson, type Router } from "../http/router.ts";

const DECISION_SHAPE = '{"decision": "allow-once"|"allow-always"|"deny", "reason"?: string}';


export interface ApiDeps {
  decisions: InboundDecisions;
  authenticate: Authenticator;
  maxBodyBytes: number;
}

/**
 * /api/v1/approvals — the REST API. Every route authenticates a bearer token; the actor of a
 * decision is the token's identity, never something the caller writes in the body.
 */
export function registerApi(router: Router, deps: ApiDeps): void {
  const store = deps.decisions.service.store;

  router.on("GET", "/api/v1/approvals", async (req, res) => {
    const who = await deps.authenticate(req);
    if (who.kind === "agent") throw new ForbiddenError(`agent token "${who.name}" may not list approvals; it can read its own agent's approvals by id`);
    const q = queryOf(req);
    const state = q.get("state") ?? "pending";
    if (![...STATES, "all"].includes(state)) throw new BadRequestError(`state must be one of ${[...STATES, "all"].join(", ")}`);
    const limit = Math.min(500, Math.max(1, Number(q.get("limit") ?? 100) || 100));
    const approvals = await store.list({ state: state as ApprovalState | "all", limit });
    sendJson(res, 200, { ok: true, approvals: await Promise.all(approvals.map((r) => forReader(deps.decisions, who, r))) });
  });

  router.on("POST", "/api/v1/approvals/:id/decision", async (req, res, p) => {
    const who = await deps.authenticate(req);
    // An agent must never approve its own (or any) call: that is the whole point of the gate.
    if (who.kind === "agent") {
      await deps.decisions.service.refuse({ id: p.id as string, actor: actorOf(who), via: "api", why: "an agent token may not decide approvals" });
    }
    const json = await readJson(req, deps.maxBodyBytes, DECISION_SHAPE);
    if (json && typeof json === "object" && Object.hasOwn(json, "actor")) {
      throw new BadRequestError(`"actor" is not accepted: the decider is the bearer token's identity (${actorOf(who)}); body: ${DECISION_SHAPE}`);
    }
    const body = decisionBody.safeParse(json);
    if (!body.success) {
      throw new BadRequestError(`invalid decision body: ${body.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}; expected ${DECISION_SHAPE}`);
    }
    // A person token is issued by an operator to one person: holding it is the channel's approver
    // check, and a route with its own approvers still decides who of them may (as on every
    // channel). An admin token acts with operator authority. The one pipeline applies the
    // self-approval rule either way and records refusals.
    const resolution = await deps.decisions.decide({
      identity: { channel: "api", id: actorOf(who).slice("api:".length) },
      approvalId: p.id as string,
      decision: body.data.decision,
      reason: body.data.reason,
      isChannelApprover: who.kind === "admin" ? true : () => true,
    });
    sendJson(res, 200, { ok: true, resolution });
  });
}

