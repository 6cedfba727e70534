import type { Redis } from "ioredis";
import { loadLuaScript, type LuaScript } from "../lua/script.ts";

/** The approval state machine's Lua scripts (src/approvals/lua), bound once per connection. */
export interface ApprovalScripts {
  createApproval: LuaScript;
  resolveApproval: LuaScript;
  escalateApproval: LuaScript;
  swapRef: LuaScript;
  setPendingRef: LuaScript;
  setRules: LuaScript;
  fixFacts: LuaScript;
}

const bound = new WeakMap<Redis, ApprovalScripts>();

export function scripts(redis: Redis): ApprovalScripts {
  let s = bound.get(redis);
  if (!s) {
    s = {
      createApproval: loadLuaScript(redis, "approvals/createApproval-6"),
      resolveApproval: loadLuaScript(redis, "approvals/resolveApproval-8"),
      escalateApproval: loadLuaScript(redis, "approvals/escalateApproval-3"),
      swapRef: loadLuaScript(redis, "approvals/swapRef-1"),
      setPendingRef: loadLuaScript(redis, "approvals/setPendingRef-2"),
      setRules: loadLuaScript(redis, "approvals/setRules-2"),
      fixFacts: loadLuaScript(redis, "approvals/fixFacts-2"),
    };
    bound.set(redis, s);
  }
  return s;
}
