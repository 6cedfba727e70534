/**
 * Every Redis key and pub/sub channel clawgate uses. All keys carry the `{prefix}` hash tag,
 * so every Lua script touches one Redis Cluster slot.
 */
export function keys(prefix: string) {
  const p = `{${prefix}}`;
  return {
    tag: p,
    approval: (id: string) => `${p}:approval:${id}`,
    /** hash: ref key ("channel|target|tier") → JSON MessageRef, or a posting intent. */
    refs: (id: string) => `${p}:approval:${id}:refs`,
    /** set: identities an escalation tier notified ("person:bob", "slack:U0BOB"); they may decide. */
    notified: (id: string) => `${p}:approval:${id}:notified`,
    /** string: facts JSON (route approvers, chain, tier-0 recipients, requester person; see facts.ts), stored once per distinct content; a record's `facts` field names its digest. */
    facts: (digest: string) => `${p}:facts:${digest}`,
    pending: `${p}:pending`,
    index: `${p}:approvals`,
    /** zset: approval id → lease expiry (ms) of the gateway waiting on it. */
    leases: `${p}:leases`,
    /** hash: "s:<session>" / "a:<agent>" → pending approvals they own (flood caps). */
    pendingCounts: `${p}:pending:counts`,
    /** set: an agent's sessions that have approvals pending (fair ordering of notifications). */
    agentSessions: (agentId: string) => `${p}:pending:sessions:${agentId}`,
    /** set: ids of pending approvals asked without an agent, who take turns as one agent. */
    agentless: `${p}:pending:agentless`,
    /** string: a provider rate bucket's theoretical arrival time (ms), per channel, bucket and key. */
    pace: (channel: string, bucket: string, key: string) => `${p}:pace:${channel}:${bucket}:${key}`,
    /** Exists while an edit of the channel waits for its bucket: posts wait too (edits first). */
    paceEdits: (channel: string) => `${p}:pace:${channel}:edits`,
    /** Exists while the provider has paused every call of the channel (e.g. Discord's global limit). */
    pacePause: (channel: string) => `${p}:pace:${channel}:pause`,
    /** The lifecycle event stream (every state change), consumed by `clawgate serve`. */
    events: `${p}:events`,
    /** Events no handler could process after repeated tries (inspect with XRANGE). */
    deadEvents: `${p}:events:dead`,
    grant: (sessionKey: string, tool: string, hash: string) => `${p}:grant:${sessionKey}:${tool}:${hash}`,
    /** string: the signed runtime rules snapshot (overrides + allow-always), see runtime-rules.ts. */
    rules: `${p}:rules`,
    /** list: the last snapshots written, newest first. */
    rulesHistory: `${p}:rules:history`,
    /** Leader-election leases for run-once background work. */
    leader: (name: string) => `${p}:leader:${name}`,
    /** pub/sub: every approval's final state, with its id (what waiting gates subscribe to, once each). */
    decisions: `${p}:decisions`,
    /** pub/sub: one per waiting process (nothing is published there): subscribed while the process lives, so the sweeper can tell paused from dead. */
    waiterChannel: (waiter: string) => `${p}:waiter:${waiter}`,
    /** pub/sub: one channel per approval, still published for processes of the previous format during a rolling upgrade. */
    decisionChannel: (id: string) => `${p}:decision:${id}`,
    /** pub/sub: runtime rules (overrides, allow-always) changed; gateways reload. */
    rulesChannel: `${p}:rules:changed`,
  };
}

export type Keys = ReturnType<typeof keys>;
