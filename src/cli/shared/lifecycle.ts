import type { Logger } from "../../log.ts";

/** Last resort, inside the 5 s a requested stop may take (serve's own stop is bounded well below it: STOP_BUDGET). */
const FORCE_EXIT_MS = 4_500;

/**
 * Why the process is stopping: a signal (exit 0, also when in-flight work was left for the next
 * start) or a crash (exit 1).
 * Every path ends in the same cleanup; `process.on("exit")` is the last resort that still
 * stops the embedded redis-server if anything calls process.exit() directly.
 */
export class Lifecycle {
  private stopRequested: ((reason: { signal?: string; error?: unknown }) => void) | null = null;
  readonly stopped: Promise<{ signal?: string; error?: unknown }>;
  private stopping = false;
  private onExitSync: () => void = () => undefined;
  private readonly handlers: Array<[string, (...args: unknown[]) => void]> = [];

  constructor(private readonly log: Logger) {
    this.stopped = new Promise((resolve) => (this.stopRequested = resolve));
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) this.on(signal, () => this.request({ signal }));
    this.on("uncaughtException", (error: unknown) => this.request({ error }));
    this.on("unhandledRejection", (error: unknown) => this.request({ error }));
    this.on("exit", () => this.onExitSync());
  }

  private on(event: string, fn: (...args: unknown[]) => void): void {
    process.on(event as NodeJS.Signals, fn);
    this.handlers.push([event, fn]);
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  atExit(fn: () => void): void {
    this.onExitSync = fn;
  }

  private request(reason: { signal?: string; error?: unknown }): void {
    // Logging can itself fail here (a closed terminal turns writes into EIO): never let it stop the cleanup.
    const safeLog = (fn: () => void) => {
      try {
        fn();
      } catch {
        /* the terminal is gone */
      }
    };
    if (this.stopping) {
      if (reason.signal) {
        safeLog(() => this.log.warn({ signal: reason.signal }, "second signal: exiting now"));
        process.exit(1);
      }
      return;
    }
    this.stopping = true;
    if (reason.error) safeLog(() => this.log.fatal({ err: reason.error }, "crashed; shutting down"));
    else safeLog(() => this.log.info({ signal: reason.signal }, "shutting down (again to force)"));
    setTimeout(() => {
      safeLog(() => this.log.warn(`stopping took over ${FORCE_EXIT_MS / 1000} s; exiting now (unfinished work resumes on the next start)`));
      // A requested stop is still a requested stop: nothing durable is lost by exiting here.
      process.exit(reason.error ? 1 : 0);
    }, FORCE_EXIT_MS).unref();
    this.stopRequested?.(reason);
  }

  dispose(): void {
    for (const [event, fn] of this.handlers) process.off(event as NodeJS.Signals, fn);
  }
}
