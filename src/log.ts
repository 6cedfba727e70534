import { pino, type Logger } from "pino";
import { redact } from "./approvals/redact.ts";

export type { Logger };

/**
 * pino with secrets removed from every logged object: the serializer runs our redaction over
 * params/records, and pino's own `redact` catches well-known secret paths in ad-hoc objects.
 */
export function createLogger(opts: { name?: string; level?: string; destination?: number | string } = {}): Logger {
  return pino(
    {
      name: opts.name ?? "clawgate",
      level: opts.level ?? process.env.LOG_LEVEL ?? "info",
      redact: {
        paths: ["*.token", "*.botToken", "*.appToken", "*.signingSecret", "*.apiToken", "*.password", "*.pass", "*.hmacKey", "headers.authorization"],
        censor: "[REDACTED]",
      },
      serializers: { params: (v: unknown) => redact(v), record: (v: unknown) => redact(v) },
    },
    pino.destination(opts.destination ?? 2),
  );
}
