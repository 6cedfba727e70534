import { isIPv6 } from "node:net";
import { LocalHosts, normaliseHost } from "./address.ts";

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
    return { host: normaliseHost(u.hostname), port };
  } catch {
    return null;
  }
}

interface EndpointSet {
  /** Normalised host names and addresses. */
  hosts: ReadonlySet<string>;
  /** Bound to loopback, to every interface or to this host's name: every local spelling reaches it. */
  local: boolean;
  ports: ReadonlySet<number>;
  anyPort: boolean;
}

/** Characters between a host and its port in text: `host:port`, `('host', port)`, `host port`, `/dev/tcp/host/port`. */
const BETWEEN = new Set([..."'\"` \t\n,:/()[]{}=;"]);
/** Characters of a host as written in text, IPv6 included. */
const HOST_CHAR = /[A-Za-z0-9._%:\-\u0080-\uffff]/;
const PORT_WORD = /^(port|PORT|Port)$/;

/** The endpoints of one kind (clawgate's Redis, its approval service), matched by normalised host and port. */
export class Endpoints {
  private readonly sets: EndpointSet[];
  private readonly portPattern: RegExp | null;

  constructor(
    endpoints: readonly Endpoint[],
    private readonly localHosts: LocalHosts,
  ) {
    this.sets = endpoints.map((e) => {
      const host = normaliseHost(e.host);
      // An empty host or 0.0.0.0/:: means "every interface": this machine in any spelling.
      return { hosts: new Set([host]), local: host === "" || localHosts.isLocal(host), ports: new Set([e.port]), anyPort: e.port === 0 };
    });
    const ports = [...new Set(endpoints.map((e) => e.port).filter((p) => p > 0))];
    // Code spells numbers other ways too: 0x18eb, 6_379.
    const spellings = ports.flatMap((p) => [[...String(p)].join("_?"), `0x0*${p.toString(16)}`]);
    this.portPattern = ports.length > 0 ? new RegExp(`(?<![0-9A-Za-z_])(?:${spellings.join("|")})(?![0-9A-Za-z_])`, "gi") : null;
  }

  /** `host` (any spelling) is one of these endpoints' hosts. */
  hasHost(host: string): boolean {
    const h = normaliseHost(host);
    if (h.length === 0) return false;
    return this.sets.some((s) => s.hosts.has(h) || (s.local && this.localHosts.isLocalNormalised(h)));
  }

  matches(host: string, port: number): boolean {
    const h = normaliseHost(host);
    if (h.length === 0) return false;
    return this.sets.some((s) => (s.anyPort || s.ports.has(port)) && (s.hosts.has(h) || (s.local && this.localHosts.isLocalNormalised(h))));
  }

  /** Some port of these endpoints, spelled as a whole number in `text` (cheap pre-check). */
  mentionsPort(text: string): boolean {
    if (this.portPattern === null) return false;
    this.portPattern.lastIndex = 0;
    return this.portPattern.test(text);
  }

  /**
   * A host and port of these endpoints written anywhere in `text` — `127.1:6379`,
   * `('0x7f.1', 6379)`, `host="::1", port=6379`, `localhost 6379` — read backwards from each
   * mention of one of their ports, so no host spelling has to be listed.
   */
  mentionedIn(text: string): string | null {
    if (this.portPattern === null) return null;
    this.portPattern.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = this.portPattern.exec(text)) !== null) {
      const port = Number(m[0].replace(/_/g, ""));
      // `--resolve name:8787:127.0.0.1`, `-L 7000:host:port`'s tail: an address right after the port.
      const after = /^:\[?([A-Za-z0-9._%:\-]+?)\]?(?=$|[\s'"`,/)\]])/.exec(text.slice(m.index + m[0].length));
      if (after && this.matches(after[1] as string, port)) return `${port}:${after[1]}`;
      let i = m.index - 1;
      for (let hops = 0; hops < 3 && i >= 0; hops++) {
        const sepStart = i;
        while (i >= 0 && sepStart - i < 8 && BETWEEN.has(text[i] as string)) i--;
        if (i === sepStart) break;
        const end = i + 1;
        while (i >= 0 && HOST_CHAR.test(text[i] as string)) i--;
        let host = text.slice(i + 1, end).replace(/:+$/, "");
        // `7000:0x7f.1` (ssh -L, docker -p): not an IPv6 address, so the host is the last field.
        if (host.includes(":") && !isIPv6(host.replace(/%.*$/, ""))) host = host.slice(host.lastIndexOf(":") + 1);
        if (host.length === 0) break;
        if (PORT_WORD.test(host)) continue;
        if (this.matches(host, port)) return `${host}:${port}`;
        break;
      }
    }
    return null;
  }
}
