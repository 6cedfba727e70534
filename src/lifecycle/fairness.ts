import type { ApprovalRecord } from "../approvals/record.ts";
import type { ApprovalStore } from "../approvals/store.ts";
import { loadLuaScript, type LuaScript } from "../lua/script.ts";

/** BullMQ's priority range; lower runs first. */
const MAX_PRIORITY = 2_097_152;

export interface Standing {
  /** The agent's approvals pending, this one included (asks without an agent count as one agent). */
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
 * An ask without a session takes its agent's turn; asks without an agent take turns as one
 * agent (rankAsk-3.lua). Counts are read when the notification is queued; they only ever
 * estimate the turn.
 */
export function fairPriority(s: Standing): number {
  let turn = Math.max(1, s.session);
  // Without a session, the agent's own count is all there is to go on.
  if (s.agent > 0) turn = s.session > 0 ? Math.min(s.agent, s.session * Math.max(1, s.sessions)) : s.agent;
  return Math.min(MAX_PRIORITY, Math.max(1, Math.floor(turn)));
}

const bound = new WeakMap<object, LuaScript>();
function script(store: ApprovalStore): LuaScript {
  let s = bound.get(store.redis);
  if (!s) {
    s = loadLuaScript(store.redis, "lifecycle/rankAsk-3");
    bound.set(store.redis, s);
  }
  return s;
}

type Asker = Pick<ApprovalRecord, "id" | "agentId" | "sessionKey">;

const run = (store: ApprovalStore, record: Asker, mode: "rank" | "settle") =>
  script(store).run(
    [store.k.pendingCounts, store.k.agentSessions(record.agentId ?? ""), store.k.agentless],
    [record.sessionKey ? `s:${record.sessionKey}` : "", record.agentId ? `a:${record.agentId}` : "", record.sessionKey ?? "", mode, record.id],
  );

/**
 * Where a pending approval stands now (and its session counted among its agent's busy ones).
 * Asks without an agent stand together, as one agent.
 */
export async function standing(store: ApprovalStore, record: Asker): Promise<Standing> {
  const res = (await run(store, record, "rank")) as number[];
  return { agent: Number(res[0]) || 0, session: Number(res[1]) || 0, sessions: Number(res[2]) || 0 };
}

/** An approval ended: its session leaves its agent's busy sessions once nothing there is pending. */
export async function settle(store: ApprovalStore, record: Asker): Promise<void> {
  await run(store, record, "settle");
}

/** The notification priority for a pending approval (see fairPriority). */
export async function notifyPriority(store: ApprovalStore, record: Asker): Promise<number> {
  return fairPriority(await standing(store, record));
}
