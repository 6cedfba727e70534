import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { BadRequestError, MethodNotAllowedError, NotFoundError, PayloadTooLargeError, toHttp } from "../errors.ts";

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
    try {
      const path = pathOf(req);
      const matching = this.routes.filter((r) => r.pattern.test(path));
      const route = matching.find((r) => r.method === req.method);
      if (!route) {
        if (matching.length === 0) throw new NotFoundError(`no route ${req.method} ${path}`);
        const allowed = [...new Set(matching.map((r) => r.method))];
        res.setHeader("allow", allowed.join(", "));
        throw new MethodNotAllowedError(req.method ?? "?", path, allowed);
      }
      const m = route.pattern.exec(path) as RegExpExecArray;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeSegment(m[i + 1] ?? "")]));
      await route.handler(req, res, params);
    } catch (err) {
      const { status, headers, body } = toHttp(err);
      if (res.headersSent) {
        res.end();
        return;
      }
      // The client may still be sending the body we refused; do not read it to keep the socket.
      if (status === 413) res.setHeader("connection", "close");
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      sendJson(res, status, body);
    }
  }
}

/** The request's path, without the query; only origin-form targets ("/…") are served. */
function pathOf(req: IncomingMessage): string {
  const target = req.url ?? "/";
  if (!target.startsWith("/")) throw new BadRequestError(`request target must be a path starting with "/", got ${JSON.stringify(target.slice(0, 100))}`);
  return target.split("?")[0] as string;
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // decodeURIComponent throws URIError on "%E0%A4%A"-style input: the client's fault, not ours.
    throw new BadRequestError(`malformed percent-encoding in URL path segment ${JSON.stringify(raw.slice(0, 100))}`);
  }
}

/** The query string of a request (URLSearchParams never throws on malformed escapes). */
export function queryOf(req: IncomingMessage): URLSearchParams {
  const target = req.url ?? "";
  const q = target.indexOf("?");
  return new URLSearchParams(q === -1 ? "" : target.slice(q + 1));
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

/** Read a JSON body: 413 over `limit`, 400 naming the expected shape when it is not JSON. */
export async function readJson(req: IncomingMessage, limit: number, shape: string): Promise<unknown> {
  const raw = await readBody(req, limit);
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new BadRequestError(`body must be JSON: ${shape}`);
  }
}

export interface HttpLimits {
  /** ms to receive a whole request (headers + body). */
  requestTimeout: number;
  /** ms to receive the headers; at most requestTimeout. */
  headersTimeout: number;
  /** ms an idle keep-alive connection stays open. */
  keepAliveTimeout: number;
  /** bytes; a larger declared Content-Length is refused on every route, read or not. */
  maxBodyBytes: number;
}

/**
 * The HTTP server with its limits set deliberately rather than left at Node's defaults
 * (requestTimeout 300 s, headers checked only every 30 s): a client that trickles its
 * headers or body (slow loris) is answered 408 and cut off.
 */
export function createHttpServer(router: Router, limits: HttpLimits): Server {
  const server = createServer(
    {
      requestTimeout: limits.requestTimeout,
      headersTimeout: limits.headersTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      // Node enforces both timeouts on this sweep; at its 30 s default a 1 s limit would be a 30 s one.
      connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(Math.min(limits.headersTimeout, limits.requestTimeout) / 4))),
    },
    (req, res) => {
      const declared = Number(req.headers["content-length"] ?? 0);
      if (declared > limits.maxBodyBytes) {
        res.setHeader("connection", "close");
        const { status, body } = toHttp(new PayloadTooLargeError(limits.maxBodyBytes));
        sendJson(res, status, body);
        return;
      }
      void router.handle(req, res);
    },
  );
  return server;
}
