import { decisionPayload, type DecisionFacts } from "./payloads.ts";
import { verifySignature, type KeyLookup, type Signer, type Verified } from "./signature.ts";

/** The channel of decisions made by `/clawgate` in OpenClaw chat: the only ones a gateway's chat key may sign. */
export const CHAT_VIA = "openclaw";

/** What verifyResolution reads of a final approval (approvals' Resolution has this shape). */
export interface DecidedFacts {
  state: string;
  decision: string;
  decidedBy: string;
  decidedVia: string;
  decidedAt: number;
  sig?: string | undefined;
}

/** Signs an approving decision of approval `id` over the params hash the decider was shown. */
export function signDecision(signer: Signer, d: DecisionFacts): string {
  return signer.sign(decisionPayload(d));
}

/**
 * Whether a final state may release the call it was made for. Closing states (denied,
 * expired, cancelled) need no signature: they only stop a call. An approval must be signed
 * over this call's approval id and params hash — as the waiting process computed them, never
 * as Redis says — by a trusted decision key, or by a chat key for a decision made in chat. An
 * allow-always must name the rule this call offered (`call.rule`).
 */
export function verifyResolution(keys: KeyLookup, r: DecidedFacts, call: { id: string; paramsHash: string; rule: string }, now = Date.now()): Verified | { ok: true; key: null } {
  if (r.state !== "approved") return { ok: true, key: null };
  const chat = r.decidedVia === CHAT_VIA && r.decidedBy.startsWith(`${CHAT_VIA}:`);
  const payload = decisionPayload({ id: call.id, paramsHash: call.paramsHash, decision: r.decision, by: r.decidedBy, via: r.decidedVia, at: r.decidedAt, rule: call.rule });
  return verifySignature(keys, payload, r.sig, chat ? ["decision", "chat"] : ["decision"], now);
}
