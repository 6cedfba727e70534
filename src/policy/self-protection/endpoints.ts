import { hostname } from "node:os";

/** A TCP endpoint; port 0 means any port on that host. */
export interface Endpoint {
  host: string;
  port: number;
}

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443, "redis:": 6379, "rediss:": 6379, "ws:": 80, "wss:": 443 };

/** `redis://:pw@10.0.0.5:6380/2` → { host: "10.0.0.5", port: 6380 }; null when not a URL with a host. */
export function parseEndpointUrl(url: string, fallbackPort: number): Endpoint | null {
  try {
    const u = new URL(url);
    if (!u.hostname) return null;
    const port = u.port ? Number(u.port) : (DEFAULT_PORTS[u.protocol] ?? fallbackPort);
    return { host: u.hostname.toLowerCase().replace(/^\[|\]$/g, ""), port };
  } catch {
    return null;
  }
}

const LOOPBACK_NAMES = ["localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "127.0.0.1", "127.1", "0.0.0.0", "0", "::1", "[::1]", "::", "[::]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "[::ffff:127.0.0.1]", "2130706433", "0x7f000001", "0177.0.0.1"];

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.includes(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h.endsWith(".localhost");
}

/**
 * Names that reach the same place as `host`. A Redis or service bound to loopback or to every
 * interface is reachable through any loopback spelling (`127.1`, `[::1]`, `localhost`) and
 * through this machine's own name.
 */
export function aliasesOf(host: string): string[] {
  const h = host.toLowerCase();
  if (isLoopback(h) || h === "") return [...LOOPBACK_NAMES, hostname().toLowerCase()];
  return [h];
}

/** Endpoints compiled for matching: their host aliases and port. */
export interface EndpointSet {
  hosts: ReadonlySet<string>;
  /** Any 127.x.y.z counts as loopback. */
  loopback: boolean;
  ports: ReadonlySet<number>;
  anyPort: boolean;
}

export function endpointSets(endpoints: readonly Endpoint[]): EndpointSet[] {
  return endpoints.map((e) => ({
    hosts: new Set(aliasesOf(e.host)),
    loopback: isLoopback(e.host) || e.host === "",
    ports: new Set([e.port]),
    anyPort: e.port === 0,
  }));
}

export function hostMatches(set: EndpointSet, host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return set.hosts.has(h) || set.hosts.has(`[${h}]`) || (set.loopback && isLoopback(h));
}

export function endpointMatches(sets: readonly EndpointSet[], host: string, port: number): boolean {
  return sets.some((s) => hostMatches(s, host) && (s.anyPort || s.ports.has(port)));
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Finds `host:port`, `host port`, `('host', port)` or `/dev/tcp/host/port` spelled anywhere in
 * a text (a shell word, inline code), for any alias of the endpoints. Null when there is
 * nothing to look for (every endpoint is any-port).
 */
export function mentionPattern(sets: readonly EndpointSet[]): RegExp | null {
  const alternatives: string[] = [];
  for (const s of sets) {
    if (s.anyPort) continue;
    // Bare numbers (`0`, `2130706433`) are hosts to redis-cli and URLs, but far too common in text.
    const hosts = [...s.hosts].filter((h) => !/^\d+$/.test(h)).sort((a, b) => b.length - a.length).map(escapeRe);
    if (s.loopback) hosts.push("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    const ports = [...s.ports].join("|");
    alternatives.push(`(?:${hosts.join("|")})[\\]'"\`\\s:,/)]{1,6}(?:port\\s*=\\s*)?(?:${ports})(?![0-9])`);
  }
  return alternatives.length > 0 ? new RegExp(`(?:^|[^A-Za-z0-9.-])(?:${alternatives.join("|")})`, "i") : null;
}
