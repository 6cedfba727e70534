/** Address helpers: the reply address `<local>+<token>@<replyDomain>` and where to find it. */

/** The bare address in `Name <a@b>` or `a@b`, lower-cased. */
export function bareAddress(raw: string): string {
  const m = /<([^<>\s]+@[^<>\s]+)>/.exec(raw);
  return (m?.[1] ?? raw).trim().toLowerCase();
}

export function localPart(address: string): string {
  const bare = bareAddress(address);
  return bare.slice(0, bare.lastIndexOf("@"));
}

export function replyAddress(local: string, token: string, domain: string): string {
  return `${local}+${token}@${domain}`;
}

/** The token in the first address of `addresses` that is one of our reply addresses. */
export function tokenFrom(addresses: readonly string[], local: string, domain: string): string | null {
  const prefix = `${local.toLowerCase()}+`;
  const suffix = `@${domain.toLowerCase()}`;
  for (const raw of addresses) {
    const a = bareAddress(raw);
    if (a.startsWith(prefix) && a.endsWith(suffix)) return a.slice(prefix.length, a.length - suffix.length);
  }
  return null;
}

/** Whether `address` is at our reply domain with our local part (the SMTP listener takes nothing else). */
export function isOurs(address: string, local: string, domain: string): boolean {
  const a = bareAddress(address);
  return a.endsWith(`@${domain.toLowerCase()}`) && (a.startsWith(`${local.toLowerCase()}+`) || a === `${local.toLowerCase()}@${domain.toLowerCase()}`);
}
