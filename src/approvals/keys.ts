/**
 * Every Redis key and pub/sub channel clawgate uses. All keys carry the `{prefix}` hash tag,
 * so every Lua script touches one Redis Cluster slot.
 */
export function keys(prefix: string) {
  const p = `{${prefix}}`;
  return {
    tag: p,
    approval: (id: string) => `${p}:approval:${id}`,
    refs: (id: string) => `${p}:approval:${id}:refs`,
    pending: `${p}:pending`,
    index: `${p}:approvals`,
    grant: (sessionKey: string, tool: string, hash: string) => `${p}:grant:${sessionKey}:${tool}:${hash}`,
    overrides: `${p}:rules:overrides`,
    always: `${p}:rules:always`,
    /** pub/sub: one channel per approval for its decision. */
    decisionChannel: (id: string) => `${p}:decision:${id}`,
    decisionPattern: `${p}:decision:*`,
    /** pub/sub: runtime rules (overrides, allow-always) changed; gateways reload. */
    rulesChannel: `${p}:rules:changed`,
  };
}

export type Keys = ReturnType<typeof keys>;
