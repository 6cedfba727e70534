import { containsSecret, redactText } from "../redact/redact.ts";
import { escapeToolName, exactRule } from "./rule.ts";
import type { Subjects } from "./call/subjects.ts";
import { parseUrl } from "./url.ts";
import type { Verdict } from "./verdict.ts";

/** A generalised rule keeps at least this many words of what the approver saw. */
const MIN_PREFIX_WORDS = 2;

/**
 * The words of `content` before the first character redaction would hide, or null when
 * fewer than MIN_PREFIX_WORDS complete words precede it.
 */
function prefixBeforeSecret(content: string, redacted: string): string | null {
  let i = 0;
  while (i < content.length && content[i] === redacted[i]) i++;
  const cut = content.lastIndexOf(" ", i);
  if (cut <= 0) return null;
  const prefix = content.slice(0, cut).trim();
  return prefix.split(" ").length >= MIN_PREFIX_WORDS ? prefix : null;
}

/**
 * An allow-always rule must never carry a secret into Redis, messages or logs. For a single
 * shell command or plugin content, offer `tool(<words before the secret> *)` instead
 * (`git push https://bob:ghp_…@github.com/x.git` → `exec(git push *)`); for a URL whose secret
 * sits after its path, `web_fetch(https://host/path?*)`. Anything else: no rule.
 */
function generalised(tool: string, subjects: Subjects, content: string, redacted: string): string | null {
  const name = escapeToolName(tool);
  if (name === null) return null;
  const escape = (s: string): string => s.replace(/[\\*]/g, "\\$&");
  if (subjects.kind === "shell") {
    const a = subjects.shell;
    if (!a || a.commands.length !== 1 || a.composites.length > 0 || a.writes.length > 0 || subjects.parts.length !== 1) return null;
    const prefix = prefixBeforeSecret(content, redacted);
    return prefix === null || containsSecret(prefix) ? null : `${name}(${escape(prefix)} *)`;
  }
  if (subjects.kind === "text") {
    const prefix = prefixBeforeSecret(content, redacted);
    return prefix === null || containsSecret(prefix) ? null : `${name}(${escape(prefix)} *)`;
  }
  if (subjects.kind === "url") {
    const parsed = parseUrl(content);
    if (!parsed) return null;
    const url = new URL(parsed.href);
    // Only a secret in the query may be generalised away: the rule keeps scheme, host and path.
    if (url.username || url.password) return null;
    const base = `${url.protocol}//${url.host}${url.pathname}`;
    if (!content.startsWith(base) || containsSecret(base)) return null;
    return `${name}(${escape(base)}?*)`;
  }
  return null;
}

/** The allow-always rule, or null when it must not exist (see docs/policy.md). */
export function alwaysAllowRule(tool: string, subjects: Subjects, all: readonly Verdict[]): string | null {
  if (subjects.parts.some((p) => p.unparsed) || all.some((v) => (v.unparsed && !v.opaque) || v.dangerous || v.source === "dangerous")) return null;
  const content = subjects.alwaysContent;
  if (content === null) {
    // A bare `exec` or `write` rule would allow every command or every file.
    return subjects.kind === "none" || (subjects.kind === "text" && subjects.parts[0]?.noContent) ? escapeToolName(tool) : null;
  }
  if (containsSecret(content)) return generalised(tool, subjects, content, redactText(content));
  return exactRule(tool, content, subjects.kind === "path");
}
