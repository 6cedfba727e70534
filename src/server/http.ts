import type { IncomingMessage, ServerResponse } from "node:http";
import { PayloadTooLargeError, toHttp } from "../errors.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

/**
 * A deliberately tiny router: exact methods, `:param` segments, one error boundary that turns
 * every thrown error into the catalogue's HTTP answer (and never leaks a stack trace).
 */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const pattern = new RegExp(`^${path.replace(/:([a-zA-Z]+)/g, (_m, n: string) => (names.push(n), "([^/]+)"))}$`);
    this.routes.push({ method, pattern, names, handler });
    return this;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const matching = this.routes.filter((r) => r.pattern.test(path));
    const route = matching.find((r) => r.method === req.method);
    try {
      if (!route) {
        if (matching.length) return sendJson(res, 405, { ok: false, error: { code: "bad_request", message: `method ${req.method} not allowed on ${path}` } });
        return sendJson(res, 404, { ok: false, error: { code: "bad_request", message: `no route ${req.method} ${path}` } });
      }
      const m = route.pattern.exec(path) as RegExpExecArray;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? "")]));
      await route.handler(req, res, params);
    } catch (err) {
      const { status, body } = toHttp(err);
      if (!res.headersSent) sendJson(res, status, body);
      else res.end();
    }
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Read the raw body, refusing anything over `limit` bytes before buffering it all. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw new PayloadTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PayloadTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
