import { authenticate, type DNSResolver } from "mailauth";

export type { DNSResolver };

export interface Transport {
  /** The connecting client (SMTP listener only; IMAP and webhooks do not know it, so SPF cannot pass there). */
  ip?: string | undefined;
  helo?: string | undefined;
  /** MAIL FROM. */
  sender?: string | undefined;
}

/**
 * DMARC for one message (mailauth: DKIM, SPF, alignment with the From domain). Returns null
 * when the From domain is proven, else why not. A domain that publishes no DMARC record
 * passes only with a valid DKIM signature of the From domain itself (or a parent of it).
 */
export async function dmarcRefusal(raw: Buffer, fromDomain: string, t: Transport, resolver?: DNSResolver): Promise<string | null> {
  const res = await authenticate(raw, {
    ...(t.ip ? { ip: t.ip } : {}),
    ...(t.helo ? { helo: t.helo } : {}),
    ...(t.sender ? { sender: t.sender } : {}),
    disableArc: true,
    disableBimi: true,
    ...(resolver ? { resolver } : {}),
  } as never);
  const r = res as unknown as {
    dmarc?: { status?: { result?: string }; domain?: string } | false;
    dkim?: { results?: Array<{ status?: { result?: string }; signingDomain?: string }> };
  };
  const dmarc = r.dmarc ? r.dmarc.status?.result : undefined;
  if (dmarc === "pass") return null;
  if (dmarc === "none" || dmarc === undefined) {
    const aligned = (r.dkim?.results ?? []).some((d) => d.status?.result === "pass" && d.signingDomain && (fromDomain === d.signingDomain || fromDomain.endsWith(`.${d.signingDomain}`)));
    if (aligned) return null;
    return `your message carries no valid DKIM signature of ${fromDomain} (and ${fromDomain} publishes no DMARC policy), so clawgate cannot tell it really comes from you`;
  }
  return `your message failed DMARC for ${fromDomain} (${dmarc}), so clawgate cannot tell it really comes from you`;
}
