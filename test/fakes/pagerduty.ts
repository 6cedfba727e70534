import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local PagerDuty Events API v2 (POST /v2/enqueue) that validates events as the real one
 * documents (routing_key, event_action trigger|acknowledge|resolve, a trigger's payload with
 * summary, source and severity) and keeps incidents by (routing_key, dedup_key).
 */
export interface FakePagerDutyEvent {
  routing_key: string;
  event_action: string;
  dedup_key?: string;
  payload?: { summary?: string; source?: string; severity?: string; custom_details?: Record<string, unknown> };
}

export interface FakePagerDuty {
  apiUrl: string;
  events: FakePagerDutyEvent[];
  /** "triggered" | "resolved" per `${routing_key}|${dedup_key}`. */
  incidents: Map<string, { state: "triggered" | "acknowledged" | "resolved"; triggers: number }>;
  waitFor(pred: (e: FakePagerDutyEvent) => boolean, timeoutMs?: number): Promise<FakePagerDutyEvent>;
  close(): Promise<void>;
}

const SEVERITIES = ["critical", "error", "warning", "info"];

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function invalid(e: FakePagerDutyEvent): string | null {
  if (typeof e.routing_key !== "string" || e.routing_key.length === 0) return "'routing_key' is missing or blank";
  if (!["trigger", "acknowledge", "resolve"].includes(e.event_action)) return "'event_action' is invalid";
  if (e.event_action === "trigger") {
    const p = e.payload;
    if (!p?.summary || !p.source) return "'payload.summary' and 'payload.source' are required";
    if (!SEVERITIES.includes(p.severity ?? "")) return "'payload.severity' is invalid";
  } else if (!e.dedup_key) return "'dedup_key' is required for acknowledge and resolve";
  return null;
}

export async function startFakePagerDuty(): Promise<FakePagerDuty> {
  const events: FakePagerDutyEvent[] = [];
  const incidents = new Map<string, { state: "triggered" | "acknowledged" | "resolved"; triggers: number }>();
  const waiters: Array<{ pred: (e: FakePagerDutyEvent) => boolean; resolve: (e: FakePagerDutyEvent) => void }> = [];
  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url !== "/v2/enqueue") return reply(404, { status: "not found" });
    let e: FakePagerDutyEvent;
    try {
      e = JSON.parse(await read(req)) as FakePagerDutyEvent;
    } catch {
      return reply(400, { status: "invalid event", message: "Event object is invalid", errors: ["body is not JSON"] });
    }
    const why = invalid(e);
    if (why) return reply(400, { status: "invalid event", message: "Event object is invalid", errors: [why] });
    const dedup = e.dedup_key ?? `fake-${events.length + 1}`;
    events.push(e);
    const key = `${e.routing_key}|${dedup}`;
    const inc = incidents.get(key);
    if (e.event_action === "trigger") {
      // A trigger on an open incident with the same dedup key is folded into it.
      if (!inc || inc.state === "resolved") incidents.set(key, { state: "triggered", triggers: (inc?.triggers ?? 0) + 1 });
    } else if (inc && inc.state !== "resolved") inc.state = e.event_action === "resolve" ? "resolved" : "acknowledged";
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
    reply(202, { status: "success", message: "Event processed", dedup_key: dedup });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    events,
    incidents,
    waitFor(pred, timeoutMs = 5_000) {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (e: FakePagerDutyEvent) => (clearTimeout(t), resolve(e)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching PagerDuty event within ${timeoutMs} ms (got ${events.length})`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
