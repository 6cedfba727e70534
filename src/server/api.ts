import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { STATES, type ApprovalState } from "../approvals/record.ts";
import type { InboundDecisions } from "../inbound/decisions.ts";
import { BadRequestError, UnauthorizedError } from "../errors.ts";
import { readBody, sendJson, type Router } from "./http.ts";

const decisionBody = z.strictObject({
  decision: z.enum(["allow-once", "allow-always", "deny"]),
  reason: z.string().max(2_000).optional(),
  actor: z.string().min(1).max(200).optional(),
});

function authorize(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization ?? "";
  const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
  const want = Buffer.from(token);
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new UnauthorizedError();
}

/** /api/v1/approvals — bearer-token REST API; disabled unless server.apiToken is set. */
export function registerApi(router: Router, deps: { decisions: InboundDecisions; token: string | undefined; maxBodyBytes: number }): void {
  const guard = (req: IncomingMessage) => {
    if (!deps.token) throw new UnauthorizedError("the REST API is disabled: set server.apiToken");
    authorize(req, deps.token);
  };
  const store = deps.decisions.service.store;

  router.on("GET", "/api/v1/approvals", async (req, res) => {
    guard(req);
    const url = new URL(req.url ?? "/", "http://x");
    const state = url.searchParams.get("state") ?? "pending";
    if (![...STATES, "all"].includes(state)) throw new BadRequestError(`state must be one of ${[...STATES, "all"].join(", ")}`);
    const limit = Math.min(500, Math.max(1, Number(url.searchParams.get("limit") ?? 100) || 100));
    sendJson(res, 200, { ok: true, approvals: await store.list({ state: state as ApprovalState | "all", limit }) });
  });

  router.on("GET", "/api/v1/approvals/:id", async (req, res, p) => {
    guard(req);
    sendJson(res, 200, { ok: true, approval: await store.require(p.id as string) });
  });

  router.on("POST", "/api/v1/approvals/:id/decision", async (req, res, p) => {
    guard(req);
    const raw = await readBody(req, deps.maxBodyBytes);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString("utf8"));
    } catch {
      throw new BadRequestError("body must be JSON: {\"decision\": \"allow-once\"|\"allow-always\"|\"deny\", \"reason\"?: string, \"actor\"?: string}");
    }
    const body = decisionBody.safeParse(json);
    if (!body.success) throw new BadRequestError(`invalid decision body: ${body.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    // The admin token acts with operator authority: no channel approver list applies.
    const resolution = await deps.decisions.decide({
      identity: { channel: "api", id: body.data.actor ?? "token" },
      approvalId: p.id as string,
      decision: body.data.decision,
      reason: body.data.reason,
      isChannelApprover: true,
    });
    sendJson(res, 200, { ok: true, resolution });
  });
}
