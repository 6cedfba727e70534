import type { ApprovalService } from "../approvals/service.ts";
import type { Logger } from "../log.ts";
import type { Leader } from "../server/leader.ts";

export interface SweeperDeps {
  service: ApprovalService;
  leader: Leader;
  log: Logger;
  intervalMs?: number;
}

/**
 * Runs on the elected leader only: expires pending approvals whose deadline passed (whatever
 * happened to the gateway that asked), and cancels those whose waiting gateway stopped
 * renewing its lease (it died). Both transitions are guarded in Lua, so a slow clock or a
 * second sweeper can never close something early.
 */
export function startSweeper(deps: SweeperDeps): { stop(): Promise<void>; sweep(): Promise<number> } {
  const { service, leader, log } = deps;
  const store = service.store;
  let running: Promise<number> | null = null;

  const sweep = async (): Promise<number> => {
    if (!leader.isLeader) return 0;
    let n = 0;
    for (const id of await store.overdue()) {
      if (await service.close(id, "expired", "clawgate", "no decision before the deadline", { guard: "due" })) n++;
    }
    for (const id of await store.lapsedLeases()) {
      if (await service.close(id, "cancelled", "clawgate", "the gateway waiting for this decision went away", { guard: "lease" })) n++;
    }
    if (n) log.info({ closed: n }, "sweeper closed approvals");
    // The creation index forgets records that expired (approvals.keepFor), whether or not anyone lists.
    await store.forgetExpired(100);
    return n;
  };
  const tick = () => {
    running ??= sweep()
      .catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, "sweep failed; retrying");
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
