export interface ParsedUrl {
  href: string;
  host: string;
}

/** Parses a URL the way a fetch would; input without `scheme://` is read as https. */
export function parseUrl(raw: string): ParsedUrl | null {
  const text = raw.trim();
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  try {
    const url = new URL(candidate);
    if (!url.hostname) return null;
    // A trailing dot names the same host (`example.com.`): strip it so domain rules hold.
    return { href: url.href, host: url.hostname.toLowerCase().replace(/\.$/, "") };
  } catch {
    return null;
  }
}
