/**
 * The exact bytes each signature covers. Every payload is a JSON array whose first element
 * names what it is and its format version, so a signature made for one purpose can never be
 * presented as another (a token record as a decision, a decision of one approval for another).
 */

export interface DecisionFacts {
  /** The approval id. */
  id: string;
  /** SHA-256 of the canonical params the decider was shown (the gate checks its own call's hash). */
  paramsHash: string;
  decision: string;
  by: string;
  via: string;
  /** ms */
  at: number;
  /** For allow-always: the rule the decider saved (the gate checks it is the rule it offered); "" otherwise. */
  rule: string;
}

export function decisionPayload(d: DecisionFacts): Buffer {
  return Buffer.from(JSON.stringify(["clawgate/decision", 1, d.id, d.paramsHash, d.decision, d.by, d.via, d.at, d.decision === "allow-always" ? d.rule : ""]));
}

export interface RulesFacts {
  prefix: string;
  version: number;
  at: number;
  by: string;
  /** [rule, decision] sorted by rule */
  overrides: ReadonlyArray<readonly [string, string]>;
  /** sorted */
  always: readonly string[];
}

export function rulesPayload(r: RulesFacts): Buffer {
  return Buffer.from(JSON.stringify(["clawgate/rules", 1, r.prefix, r.version, r.at, r.by, r.overrides, r.always]));
}

export interface TokenFacts {
  prefix: string;
  /** SHA-256 of the secret: binds the record to the one secret it was issued for. */
  hash: string;
  name: string;
  kind: string;
  subject: string;
  createdAt: number;
}

export function tokenPayload(t: TokenFacts): Buffer {
  return Buffer.from(JSON.stringify(["clawgate/token", 1, t.prefix, t.hash, t.name, t.kind, t.subject, t.createdAt]));
}
