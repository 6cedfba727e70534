import { readFileSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { isIPv6 } from "node:net";

/*
 * One answer to "is this address ours?" for every self-protection check (Redis, the approval
 * service's routes, ssh to this host). A host is compared after normalisation, so each of the
 * spellings the OS accepts for one address is the same string here:
 *   IPv4: every inet_aton form (`127.1`, `0x7f.1`, `0177.0.0.1`, `2130706433`, `127.0.0x1`),
 *   IPv6: any zero compression or case, `[…]`, a zone (`%lo`), v4-mapped/-compatible forms,
 *   names: lower case, one trailing dot removed (`LOCALHOST.`), NFKC (full-width digits).
 */

/**
 * inet_aton(3): one to four parts, each decimal, octal (leading 0) or hex (0x); the last part
 * fills the remaining bytes (`127.1` is 127.0.0.1, `2130706433` is 127.0.0.1). Null when the
 * text is not such a number. glibc's getaddrinfo, ping, curl and redis-cli all accept these.
 */
export function parseInetAton(text: string): number | null {
  if (text.length === 0 || text.length > 64) return null;
  const parts = text.split(".");
  if (parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    const v = parsePart(part);
    if (v === null) return null;
    values.push(v);
  }
  const last = values.length - 1;
  let out = 0;
  for (let i = 0; i < last; i++) {
    if ((values[i] as number) > 255) return null;
    out = out * 256 + (values[i] as number);
  }
  const room = 2 ** (8 * (4 - last));
  if ((values[last] as number) >= room) return null;
  return out * room + (values[last] as number);
}

function parsePart(part: string): number | null {
  if (part.length === 0) return null;
  let digits = part;
  let base = 10;
  if (/^0x/i.test(part)) {
    base = 16;
    digits = part.slice(2);
    // `0x` alone is 0 to inet_aton and to the WHATWG URL parser alike.
    if (digits.length === 0) return 0;
  } else if (part.length > 1 && part.startsWith("0")) {
    base = 8;
    digits = part.slice(1);
  }
  const valid = base === 16 ? /^[0-9a-f]+$/i : base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) return null;
  const v = Number.parseInt(digits, base);
  return Number.isSafeInteger(v) && v <= 0xffffffff ? v : null;
}

function dotted(v: number): string {
  return `${Math.floor(v / 16777216) & 255}.${Math.floor(v / 65536) & 255}.${Math.floor(v / 256) & 255}.${v & 255}`;
}

/** The eight 16-bit groups of an IPv6 address (net.isIPv6 has accepted it). */
function ipv6Groups(text: string): number[] | null {
  let head = text;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(head);
  if (v4) {
    const n = parseInetAton(v4[1] as string);
    if (n === null) return null;
    tail.push(Math.floor(n / 65536), n & 0xffff);
    head = head.slice(0, -(v4[1] as string).length);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const [left, right] = head.includes("::") ? head.split("::") : [head, undefined];
  const nums = (s: string | undefined): number[] => (s ? s.split(":").filter((x) => x.length > 0).map((x) => Number.parseInt(x, 16)) : []);
  const l = nums(left);
  const r = [...nums(right), ...tail];
  if (right === undefined && v4 === null) return l.length === 8 ? l : null;
  if (right === undefined) return l.length + tail.length === 8 ? [...l, ...tail] : null;
  const zeros = 8 - l.length - r.length;
  return zeros < 0 ? null : [...l, ...new Array<number>(zeros).fill(0), ...r];
}

/** An IPv6 address as its embedded IPv4 when it carries one (mapped, compatible, translated, NAT64), else compressed hex. */
function canonicalIpv6(text: string): string | null {
  const g = ipv6Groups(text);
  if (!g) return null;
  const v4 = (): string => dotted((g[6] as number) * 65536 + (g[7] as number));
  const zeroTo = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(5) && g[5] === 0xffff) return v4(); // ::ffff:a.b.c.d
  if (zeroTo(4) && g[4] === 0xffff && g[5] === 0) return v4(); // ::ffff:0:a.b.c.d (SIIT)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(); // 64:ff9b::/96
  // ::a.b.c.d (deprecated "compatible"), but not :: and ::1 themselves.
  if (zeroTo(6) && ((g[6] as number) > 0 || (g[7] as number) > 1)) return v4();
  return g.map((x) => x.toString(16)).join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/**
 * The one spelling of `host` comparisons use: an IPv4 address dotted, an IPv6 address
 * compressed (or its embedded IPv4), a name lower-cased without its trailing dot.
 */
export function normaliseHost(raw: string): string {
  let h = raw.trim();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  // Non-ASCII: full-width digits and dots are what URL parsers and IDNA turn them into.
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(h)) h = h.normalize("NFKC").replace(/[\u3002\uff61]/g, ".");
  h = h.toLowerCase();
  const zone = h.indexOf("%");
  if (zone > 0 && h.includes(":")) h = h.slice(0, zone);
  if (h.includes(":")) return isIPv6(h) ? (canonicalIpv6(h) ?? h) : h;
  if (h.endsWith(".") && h.length > 1) h = h.slice(0, -1);
  if (/^[0-9a-fx.]+$/.test(h)) {
    const v = parseInetAton(h);
    if (v !== null) return dotted(v);
  }
  return h;
}

/**
 * Public names whose DNS answer is 127.0.0.1 (and their subdomains). Names cannot be resolved
 * offline, so only well-known ones are listed; the embedded-address services below are read.
 */
const LOOPBACK_DOMAINS = ["localtest.me", "lvh.me", "vcap.me", "lacolhost.com", "readme.localtest.me", "127.0.0.1.nip.io"];
/** nip.io, sslip.io, xip.io…: `127.0.0.1.nip.io`, `127-0-0-1.sslip.io`, `7f000001.nip.io` resolve to the address they spell. */
const EMBEDDED = /(?:^|[.-])((?:\d{1,3}[.-]){3}\d{1,3}|[0-9a-f]{8})\.(?:nip\.io|sslip\.io|xip\.io|nip\.direct|traefik\.me|localdomain\.me)$/;

/** Loopback or "this host" whatever the machine: 127/8, 0.0.0.0, ::1, ::, localhost and *.localhost. */
function isLoopbackNormalised(h: string): boolean {
  if (h === "localhost" || h.endsWith(".localhost") || h === "::1" || h === "::") return true;
  if (h === "localhost.localdomain" || h === "ip6-localhost" || h === "ip6-loopback") return true;
  if (h.includes(".") && /[a-z]/.test(h)) {
    if (LOOPBACK_DOMAINS.some((d) => h === d || h.endsWith(`.${d}`))) return true;
    const m = EMBEDDED.exec(h);
    if (m) {
      const spelled = m[1] as string;
      const v = /^[0-9a-f]{8}$/.test(spelled) ? Number.parseInt(spelled, 16) : parseInetAton(spelled.replace(/-/g, "."));
      if (v !== null && (v === 0 || Math.floor(v / 16777216) === 127)) return true;
    }
  }
  // 0.0.0.0 ("this host", what `0` and `0x0` spell) connects locally; 127/8 is loopback.
  return h === "0.0.0.0" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function isLoopbackHost(host: string): boolean {
  return isLoopbackNormalised(normaliseHost(host));
}

/** What "this machine" is besides loopback: its names and interface addresses (normalised). */
export interface LocalIdentity {
  names: readonly string[];
  addresses: readonly string[];
}

/**
 * This machine's names (hostname, its short form, names /etc/hosts gives a local address) and
 * interface addresses. Reads /etc/hosts once; call it at start, not per tool call.
 */
export function localIdentity(hostsFile = "/etc/hosts"): LocalIdentity {
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) addresses.add(normaliseHost(a.address));
  const names = new Set<string>();
  const own = hostname().toLowerCase();
  if (own) {
    names.add(own);
    names.add(own.split(".")[0] as string);
  }
  try {
    for (const line of readFileSync(hostsFile, "utf8").split("\n")) {
      const [addr, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
      if (!addr) continue;
      const a = normaliseHost(addr);
      if (!isLoopbackNormalised(a) && !addresses.has(a)) continue;
      for (const n of aliases) names.add(normaliseHost(n));
    }
  } catch {
    // No hosts file (containers, tests): the hostname and addresses still count.
  }
  return { names: [...names].filter((n) => n.length > 0), addresses: [...addresses] };
}

/** Answers "is this address ours?" for one machine. */
export class LocalHosts {
  private readonly names: ReadonlySet<string>;
  private readonly addresses: ReadonlySet<string>;

  constructor(identity: LocalIdentity = { names: [], addresses: [] }) {
    this.names = new Set(identity.names.map(normaliseHost));
    this.addresses = new Set(identity.addresses.map(normaliseHost));
  }

  /** `host` (any spelling) reaches this machine. */
  isLocal(host: string): boolean {
    const h = normaliseHost(host);
    return isLoopbackNormalised(h) || this.names.has(h) || this.addresses.has(h);
  }

  /** Same, for a host already normalised. */
  isLocalNormalised(h: string): boolean {
    return isLoopbackNormalised(h) || this.names.has(h) || this.addresses.has(h);
  }
}
