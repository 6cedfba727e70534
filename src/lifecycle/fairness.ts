import type { ApprovalRecord } from "../approvals/record.ts";
import type { ApprovalStore } from "../approvals/store.ts";
import { loadLuaScript, type LuaScript } from "../lua/script.ts";

/** BullMQ's priority range; lower runs first. */
const MAX_PRIORITY = 2_097_152;

export interface Standing {
  /** The agent's approvals pending, this one included (0: no agent). */
  agent: number;
  /** Its session's approvals pending, this one included (0: no session). */
  session: number;
  /** The agent's sessions with approvals pending. */
  sessions: number;
}

/**
 * The priority of an approval's notifications: fair queueing across agents, then across each
 * agent's sessions. Agents take turns — an agent's k-th waiting ask goes out in round k — and
 * within an agent its sessions take turns, so an ask that is its session's r-th goes out by
 * round r × (the agent's busy sessions), sooner if the agent has fewer asks waiting than that.
 * Another agent's first ask is therefore in round 1 however many asks one agent floods in over
 * however many sessions, and a quiet session's first ask is in round (busy sessions) of its own
 * agent, not behind a noisy sibling's backlog. Ties run in the order they were queued.
 * Counts are read when the notification is queued; they only ever estimate the turn.
 */
export function fairPriority(s: Standing): number {
  const session = Math.max(1, s.session);
  const byAgent = s.agent > 0 ? Math.min(s.agent, session * Math.max(1, s.sessions)) : session;
  return Math.min(MAX_PRIORITY, Math.max(1, Math.floor(byAgent)));
}

const bound = new WeakMap<object, LuaScript>();
function script(store: ApprovalStore): LuaScript {
  let s = bound.get(store.redis);
  if (!s) {
    s = loadLuaScript(store.redis, "lifecycle/rankAsk-2");
    bound.set(store.redis, s);
  }
  return s;
}

const fields = (record: Pick<ApprovalRecord, "agentId" | "sessionKey">) => [record.sessionKey ? `s:${record.sessionKey}` : "", record.agentId ? `a:${record.agentId}` : "", record.sessionKey ?? ""];

/** Where a pending approval stands now (and its session counted among its agent's busy ones). */
export async function standing(store: ApprovalStore, record: Pick<ApprovalRecord, "agentId" | "sessionKey">): Promise<Standing> {
  const res = (await script(store).run([store.k.pendingCounts, store.k.agentSessions(record.agentId ?? "")], [...fields(record), "rank"])) as number[];
  return { agent: Number(res[0]) || 0, session: Number(res[1]) || 0, sessions: Number(res[2]) || 0 };
}

/** An approval ended: its session leaves its agent's busy sessions once nothing there is pending. */
export async function settle(store: ApprovalStore, record: Pick<ApprovalRecord, "agentId" | "sessionKey">): Promise<void> {
  if (!record.agentId) return;
  await script(store).run([store.k.pendingCounts, store.k.agentSessions(record.agentId)], [...fields(record), "settle"]);
}

/** The notification priority for a pending approval (see fairPriority). */
export async function notifyPriority(store: ApprovalStore, record: Pick<ApprovalRecord, "agentId" | "sessionKey">): Promise<number> {
  return fairPriority(await standing(store, record));
}
