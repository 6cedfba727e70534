import type { RedisReachability } from "../redis/reachability.ts";
import { CLOSE_REASONS } from "../approvals/record.ts";
import type { ApprovalService } from "../approvals/service.ts";
import { isRedisUnavailable } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Leader } from "../redis/leader.ts";

export interface SweeperDeps {
  service: ApprovalService;
  leader: Leader;
  log: Logger;
  intervalMs?: number;
  /**
   * A new leader judges leases only after watching them this long (default: one lease), so a
   * gateway that could not renew while Redis was away gets the chance to after it is back.
   */
  leaseGraceMs?: number;
  reach?: RedisReachability;
}

/**
 * Runs on the elected leader only: expires pending approvals whose deadline passed (whatever
 * happened to the gateway that asked), and cancels those whose waiting gateway went away.
 * Both transitions are guarded in Lua, so a slow clock or a second sweeper can never close
 * something early.
 *
 * "Went away" takes two signs: its lease lapsed (no renewal for a lease, 6 s) *and* nothing
 * listens for the decision any more (no subscriber on the approval's channel). A gateway paused
 * for any length of time (GC, SIGSTOP, a VM or laptop asleep) keeps its Redis socket open, so its
 * approvals wait for it until their deadline; one that died had its socket closed by its kernel,
 * so its approvals are cancelled within a lease and a sweep (~7 s).
 */
export function startSweeper(deps: SweeperDeps): { stop(): Promise<void>; sweep(): Promise<number> } {
  const { service, leader, log } = deps;
  const store = service.store;
  const graceMs = deps.leaseGraceMs ?? store.leaseMs;
  let running: Promise<number> | null = null;
  /** Approvals already reported as "paused, kept" (once each). */
  const paused = new Set<string>();
  let listeningUnknown = false;

  /** Whether the waiter still listens; when Redis will not say (ACL without PUBSUB), assume it died, as before. */
  const listening = async (id: string): Promise<boolean> => {
    try {
      return await store.waiterListening(id);
    } catch (err) {
      if (isRedisUnavailable(err)) throw err;
      if (!listeningUnknown) log.warn({ err: (err as Error).message }, "cannot ask Redis who listens for decisions (PUBSUB NUMSUB refused?): a lapsed lease alone cancels, so a paused gateway loses its approvals");
      listeningUnknown = true;
      return false;
    }
  };

  const sweep = async (): Promise<number> => {
    if (!leader.isLeader) return 0;
    let n = 0;
    for (const id of await store.overdue()) {
      if (await service.close(id, "expired", "clawgate", CLOSE_REASONS.deadline, { guard: "due" })) n++;
    }
    if (Date.now() - leader.heldSince >= graceMs) {
      for (const id of await store.lapsedLeases()) {
        if (await listening(id)) {
          if (!paused.has(id)) {
            if (paused.size > 10_000) paused.clear();
            paused.add(id);
            log.info({ approvalId: id }, "the gateway waiting for this approval stopped renewing its lease but is still connected (paused?): keeping the approval until its deadline");
          }
          continue;
        }
        paused.delete(id);
        if (await service.close(id, "cancelled", "clawgate", CLOSE_REASONS.leaseLapsed(store.leaseMs), { guard: "lease" })) n++;
      }
    }
    if (n) log.info({ closed: n }, "sweeper closed approvals");
    // The creation index forgets records that expired (approvals.keepFor), whether or not anyone lists.
    await store.forgetExpired(100);
    return n;
  };
  const tick = () => {
    running ??= sweep()
      .catch((err: unknown) => {
        if (deps.reach && isRedisUnavailable(err)) deps.reach.lost((err as Error).message);
        else log.warn({ err: (err as Error).message }, "sweep failed; retrying");
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), deps.intervalMs ?? 1_000);
  return {
    sweep: tick,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
