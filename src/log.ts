import { createRequire } from "node:module";
import { isatty } from "node:tty";
import { format } from "node:util";
import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { redact } from "./redact/redact.ts";

export type { Logger };

/**
 * Secrets are removed from every logged object: the serializers run our redaction over
 * params/records, and pino's own `redact` catches well-known secret paths in ad-hoc objects.
 */
function baseOptions(name: string, level: string): LoggerOptions {
  return {
    name,
    level,
    redact: {
      paths: ["*.token", "*.botToken", "*.appToken", "*.signingSecret", "*.apiToken", "*.password", "*.pass", "*.hmacKey", "headers.authorization"],
      censor: "[REDACTED]",
    },
    serializers: { params: (v: unknown) => redact(v), record: (v: unknown) => redact(v) },
  };
}

export type LogFormat = "json" | "pretty" | "auto";

/**
 * pino-pretty, in-process and synchronous (no transport worker: it would cost startup time
 * and lose the last lines on exit), loaded on the first line logged: a CLI call that logs
 * nothing does not pay ~40 ms for it. JSON when it is not installed.
 */
function prettyStream(fd: number): DestinationStream {
  let stream: DestinationStream | null = null;
  const open = (): DestinationStream => {
    try {
      const build = createRequire(import.meta.url)("pino-pretty") as (o: Record<string, unknown>) => DestinationStream;
      return build({ destination: fd, sync: true, colorize: isatty(fd), translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" });
    } catch {
      return pino.destination({ dest: fd, sync: true });
    }
  };
  return { write: (line: string) => (stream ??= open()).write(line) };
}

/**
 * The process's logger: stderr by default, coloured human-readable lines when that is a
 * terminal, JSON lines otherwise (files, pipes, containers, log shippers). `LOG_FORMAT=json`
 * or `pretty` overrides the guess; `LOG_LEVEL` sets the level.
 */
export function createLogger(opts: { name?: string; level?: string; destination?: number | string; format?: LogFormat } = {}): Logger {
  const options = baseOptions(opts.name ?? "clawgate", opts.level ?? process.env.LOG_LEVEL ?? "info");
  const dest = opts.destination ?? 2;
  const wanted = opts.format ?? (process.env.LOG_FORMAT as LogFormat | undefined) ?? "auto";
  const tty = typeof dest === "number" && isatty(dest);
  const pretty = typeof dest === "number" && (wanted === "pretty" || (wanted === "auto" && tty));
  // A terminal gets synchronous writes: when it closes (SIGHUP), an asynchronous destination
  // is flushed at exit by sonic-boom's flushSync, which retries EIO forever and never exits.
  return pino(options, pretty ? prettyStream(dest as number) : pino.destination({ dest, sync: tty }));
}

/** The logger OpenClaw hands a plugin (`api.logger`): plain strings, debug optional. */
export interface OpenClawLogger {
  debug?: (message: string) => void;
  info: (message: string) => void;
  warn: (message: string) => void;
  error: (message: string) => void;
}

const OMIT = new Set(["level", "time", "pid", "hostname", "name", "msg"]);

/** One pino JSON line → "msg {fields}", errors reduced to their message (stack kept at error level). */
function renderLine(entry: Record<string, unknown>, keepStack: boolean): string {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) {
    if (OMIT.has(k)) continue;
    if (!keepStack && v && typeof v === "object" && "stack" in v && "message" in v) fields[k] = (v as { message: unknown }).message;
    else fields[k] = v;
  }
  const msg = typeof entry.msg === "string" ? entry.msg : "";
  return Object.keys(fields).length ? `${msg} ${JSON.stringify(fields)}` : msg;
}

/**
 * A pino logger whose lines go to OpenClaw's plugin logger, so the plugin's logs land in
 * the gateway's own log file (with its levels and redaction) instead of raw JSON on the
 * gateway's stdout. Same redaction as createLogger; debug/trace are dropped when OpenClaw
 * offers no debug method.
 */
export function loggerFromOpenClaw(target: OpenClawLogger, opts: { name?: string; level?: string } = {}): Logger {
  const sink: DestinationStream = {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        target.info(line.trimEnd());
        return;
      }
      const level = typeof entry.level === "number" ? entry.level : 30;
      try {
        if (level >= 50) target.error(renderLine(entry, true));
        else if (level >= 40) target.warn(renderLine(entry, false));
        else if (level >= 30) target.info(renderLine(entry, false));
        else target.debug?.(renderLine(entry, false));
      } catch {
        // A logger must never throw into the code that logs (least of all a gate hook).
      }
    },
  };
  return pino(baseOptions(opts.name ?? "clawgate-plugin", opts.level ?? process.env.LOG_LEVEL ?? "info"), sink);
}

/**
 * Send `console.*` through `log` (libraries such as BullMQ print warnings and errors with
 * console), so a service's stderr holds only log lines. Returns a function that restores it.
 */
export function routeConsoleToLogger(log: Logger): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  const via = (fn: (obj: object, msg: string) => void) => (...args: unknown[]) => fn({ source: "console" }, format(...args));
  console.log = via(log.info.bind(log));
  console.info = via(log.info.bind(log));
  console.warn = via(log.warn.bind(log));
  console.error = via(log.error.bind(log));
  console.debug = via(log.debug.bind(log));
  return () => Object.assign(console, saved);
}
