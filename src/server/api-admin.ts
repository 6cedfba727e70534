import type { RuntimeRulesStore, RulesWriter } from "../approvals/runtime-rules.ts";
import type { ApprovalStore } from "../approvals/store.ts";
import { actorOf, type Authenticator, type Identity } from "../auth/authenticate.ts";
import type { TokenStore } from "../auth/tokens.ts";
import { BadRequestError, ForbiddenError } from "../errors.ts";
import { parseRule } from "../policy/engine.ts";
import type { KeyLookup } from "../trust/signature.ts";
import { ruleSetBody, ruleUnsetBody, tokenBody } from "./api-schemas.ts";
import { readJson, sendJson, type Router } from "../http/router.ts";

export interface AdminApiDeps {
  authenticate: Authenticator;
  store: ApprovalStore;
  rules: RulesWriter;
  rulesStore: RuntimeRulesStore;
  keys: KeyLookup;
  tokens: TokenStore;
  maxBodyBytes: number;
}

function issues(e: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return e.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`).join("; ");
}

/** Changing the policy and the tokens is an operator's act: admin tokens (or server.apiToken) only. */
function requireAdmin(who: Identity, what: string): void {
  if (who.kind !== "admin") throw new ForbiddenError(`${what} needs an admin token; "${who.name}" is a ${who.kind} token`);
}

/**
 * What the CLI's `policy set|unset`, `token` and `login` act through: serve signs every rules
 * snapshot and every token it writes, so these need serve's key — and a credential.
 */
export function registerAdminApi(router: Router, deps: AdminApiDeps): void {
  router.on("GET", "/api/v1/whoami", async (req, res) => {
    const who = await deps.authenticate(req);
    sendJson(res, 200, { ok: true, kind: who.kind, subject: who.subject, name: who.name, actor: actorOf(who) });
  });

  router.on("GET", "/api/v1/policy/rules", async (req, res) => {
    const who = await deps.authenticate(req);
    if (who.kind === "agent") throw new ForbiddenError("an agent token may not read the runtime rules");
    const loaded = await deps.rulesStore.load(deps.keys);
    if (loaded.kind === "none") return sendJson(res, 200, { ok: true, version: 0, verified: true, overrides: {}, alwaysAllow: [] });
    if (loaded.kind === "forged") return sendJson(res, 200, { ok: true, version: loaded.version, verified: false, problem: loaded.why, overrides: {}, alwaysAllow: [] });
    const s = loaded.snapshot;
    sendJson(res, 200, { ok: true, version: s.version, verified: true, by: s.by, at: s.at, overrides: Object.fromEntries(s.overrides), alwaysAllow: s.alwaysAllow });
  });

  router.on("POST", "/api/v1/policy/rules", async (req, res) => {
    const who = await deps.authenticate(req);
    requireAdmin(who, "changing runtime rules");
    const body = ruleSetBody.safeParse(await readJson(req, deps.maxBodyBytes, '{"rule": string, "decision": "allow"|"ask"|"deny"}'));
    if (!body.success) throw new BadRequestError(`invalid rule body: ${issues(body.error)}`);
    parseRule(body.data.rule);
    const actor = actorOf(who);
    const snapshot = await deps.rules.setOverride(body.data.rule, body.data.decision, actor);
    if (snapshot) await deps.store.appendEvent("policy.override.set", "", { actor, decision: body.data.decision, rule: body.data.rule, reason: `runtime rules version ${snapshot.version}` });
    sendJson(res, 200, { ok: true, changed: snapshot !== null, version: snapshot?.version ?? null });
  });

  router.on("POST", "/api/v1/policy/rules/unset", async (req, res) => {
    const who = await deps.authenticate(req);
    requireAdmin(who, "changing runtime rules");
    const body = ruleUnsetBody.safeParse(await readJson(req, deps.maxBodyBytes, '{"rule": string}'));
    if (!body.success) throw new BadRequestError(`invalid rule body: ${issues(body.error)}`);
    const actor = actorOf(who);
    const snapshot = await deps.rules.unset(body.data.rule, actor);
    await deps.store.appendEvent("policy.override.unset", "", { actor, rule: body.data.rule, reason: `runtime rules version ${snapshot.version}` });
    sendJson(res, 200, { ok: true, version: snapshot.version });
  });

  router.on("POST", "/api/v1/policy/repair", async (req, res) => {
    const who = await deps.authenticate(req);
    requireAdmin(who, "repairing runtime rules");
    const actor = actorOf(who);
    const out = await deps.rules.update(actor, () => false);
    if (out) await deps.store.appendEvent("rules.changed", "", { actor, reason: `re-signed as version ${out.snapshot.version}${out.rebuiltFrom ? `: ${out.rebuiltFrom}` : ""}` });
    sendJson(res, 200, { ok: true, repaired: out !== null, version: out?.snapshot.version ?? null, ...(out?.rebuiltFrom ? { note: out.rebuiltFrom } : {}) });
  });

  router.on("GET", "/api/v1/tokens", async (req, res) => {
    const who = await deps.authenticate(req);
    requireAdmin(who, "listing tokens");
    sendJson(res, 200, { ok: true, tokens: await deps.tokens.list() });
  });

  router.on("POST", "/api/v1/tokens", async (req, res) => {
    const who = await deps.authenticate(req);
    requireAdmin(who, "creating tokens");
    const body = tokenBody.safeParse(await readJson(req, deps.maxBodyBytes, '{"name": string, "kind": "person"|"agent"|"admin", "subject"?: string}'));
    if (!body.success) throw new BadRequestError(`invalid token body: ${issues(body.error)}`);
    if (body.data.kind === "admin" && body.data.subject) throw new BadRequestError("an admin token has no subject");
    const { token, secret } = await deps.tokens.create({ name: body.data.name, kind: body.data.kind, ...(body.data.subject ? { subject: body.data.subject } : {}) });
    await deps.store.appendEvent("token.created", "", { actor: actorOf(who), reason: `${token.kind} token "${token.name}" for ${token.subject}` });
    sendJson(res, 201, { ok: true, token, secret });
  });

  router.on("DELETE", "/api/v1/tokens/:name", async (req, res, p) => {
    const who = await deps.authenticate(req);
    requireAdmin(who, "revoking tokens");
    await deps.tokens.revoke(p.name as string);
    await deps.store.appendEvent("token.revoked", "", { actor: actorOf(who), reason: `token "${p.name}"` });
    sendJson(res, 200, { ok: true });
  });
}
