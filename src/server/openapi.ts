import { z } from "zod";
import { approvalAnswer, createAnswer, createBody, decisionAnswer, decisionBody, errorAnswer, ruleSetBody, ruleUnsetBody, tokenBody } from "./api-schemas.ts";

const json = (schema: z.ZodType) => ({ "application/json": { schema: z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) } });
const errors = {
  "400": { description: "malformed request", content: json(errorAnswer) },
  "401": { description: "missing, unknown or revoked token", content: json(errorAnswer) },
  "403": { description: "this token may not do that", content: json(errorAnswer) },
  "404": { description: "no such approval (or not this agent's)", content: json(errorAnswer) },
};
const idParam = { name: "id", in: "path", required: true, schema: { type: "string", pattern: "^ap_[0-9a-z]{12}$" } };
const waitParam = { name: "wait", in: "query", required: false, description: 'long-poll until decided or this long, e.g. "30s" (at most 5m)', schema: { type: "string" } };

/** The OpenAPI 3.1 document of clawgate's approval API, generated from the zod schemas the routes use. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: { title: "clawgate approval API", version, description: "Put a human in the loop of any agent: create an approval, wait for the decision. See docs/api.md." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "a token from `clawgate token create`" } } },
    security: [{ bearer: [] }],
    paths: {
      "/api/v1/approvals": {
        post: {
          summary: "Ask: the policy decides allow/deny at once, or an approval is created and every channel notified",
          requestBody: { required: true, content: json(createBody) },
          responses: { "200": { description: "allowed or denied by policy", content: json(createAnswer) }, "201": { description: "an approval was created (and, with wait, maybe already decided)", content: json(createAnswer) }, ...errors },
        },
        get: {
          summary: "List approvals (not for agent tokens)",
          parameters: [
            { name: "state", in: "query", schema: { type: "string", enum: ["pending", "approved", "denied", "expired", "cancelled", "all"] } },
            { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500 } },
          ],
          responses: { "200": { description: "approvals, newest first" }, ...errors },
        },
      },
      "/api/v1/approvals/{id}": {
        get: { summary: "One approval; with wait, long-poll for its decision", parameters: [idParam, waitParam], responses: { "200": { description: "the approval", content: json(approvalAnswer) }, ...errors } },
      },
      "/api/v1/approvals/{id}/decision": {
        post: {
          summary: "Decide (person and admin tokens; the decider is the token's identity)",
          parameters: [idParam],
          requestBody: { required: true, content: json(decisionBody) },
          responses: { "200": { description: "decided", content: json(decisionAnswer) }, "409": { description: "already decided", content: json(errorAnswer) }, "410": { description: "expired", content: json(errorAnswer) }, ...errors },
        },
      },
      "/api/v1/approvals/{id}/events": {
        get: {
          summary: "Server-sent events: `approval` now, and again when it is decided, expires or is cancelled",
          parameters: [idParam],
          responses: { "200": { description: "text/event-stream of `event: approval` with the approval as JSON data", content: { "text/event-stream": { schema: { type: "string" } } } }, ...errors },
        },
      },
      "/api/v1/whoami": { get: { summary: "The token's kind, subject and actor (what `clawgate login` checks)", responses: { "200": { description: "who this token is" }, ...errors } } },
      "/api/v1/policy/rules": {
        get: { summary: "The runtime rules snapshot and whether its signature verifies", responses: { "200": { description: "version, verified, overrides, alwaysAllow" }, ...errors } },
        post: { summary: "Set a runtime override (admin tokens; serve signs a new snapshot)", requestBody: { required: true, content: json(ruleSetBody) }, responses: { "200": { description: "changed and the new version" }, ...errors } },
      },
      "/api/v1/policy/rules/unset": {
        post: { summary: "Remove a runtime override or a saved allow-always rule (admin tokens)", requestBody: { required: true, content: json(ruleUnsetBody) }, responses: { "200": { description: "the new version" }, ...errors } },
      },
      "/api/v1/policy/repair": { post: { summary: "Re-sign the newest genuine runtime rules after tampering (admin tokens)", responses: { "200": { description: "repaired, version, note" }, ...errors } } },
      "/api/v1/tokens": {
        get: { summary: "List tokens, never secrets (admin tokens)", responses: { "200": { description: "tokens" }, ...errors } },
        post: { summary: "Create a token, signed by serve; the secret is in this answer only (admin tokens)", requestBody: { required: true, content: json(tokenBody) }, responses: { "201": { description: "token and secret" }, ...errors } },
      },
      "/api/v1/tokens/{name}": {
        delete: { summary: "Revoke a token (admin tokens)", parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }], responses: { "200": { description: "revoked" }, ...errors } },
      },
    },
  };
}
