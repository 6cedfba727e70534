import { createHmac } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerOf, sameSecret } from "../../src/auth/secret.ts";
import { UnauthorizedError } from "../../src/errors.ts";
import { readBody, sendJson } from "../../src/http/router.ts";
import type { InboundMail } from "./inbound.ts";

const SIGNATURE_HEADER = "x-clawgate-signature";

/**
 * `POST /email/inbound`: raw MIME (the whole message) from a provider's inbound webhook.
 * Authenticated by `Authorization: Bearer <email.inbound.webhook.secret>` or by
 * `X-Clawgate-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`; anything else is 401,
 * a body over server.maxBodyBytes is 413. A mail that could not be processed is a 5xx, so the
 * provider retries it.
 */
export function webhookHandler(secret: string, maxBytes: number, inbound: () => InboundMail) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const bearer = bearerOf(req);
    if (bearer !== null && !sameSecret(bearer, secret)) throw new UnauthorizedError("wrong email.inbound.webhook.secret");
    const sig = req.headers[SIGNATURE_HEADER];
    if (bearer === null && typeof sig !== "string") throw new UnauthorizedError(`send \`Authorization: Bearer <email.inbound.webhook.secret>\` or an ${SIGNATURE_HEADER} header`);
    const body = await readBody(req, maxBytes);
    if (bearer === null) {
      const want = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
      if (!sameSecret(String(sig), want)) throw new UnauthorizedError(`${SIGNATURE_HEADER} does not match the body`);
    }
    const envelopeTo = req.headers["x-envelope-to"];
    const out = await inbound().handle(body, "webhook", typeof envelopeTo === "string" ? { to: envelopeTo.split(",").map((s) => s.trim()) } : {});
    sendJson(res, 200, { ok: true, outcome: out.kind });
  };
}
