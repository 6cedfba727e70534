import picomatch from "picomatch";
import { PolicyRuleInvalidError } from "../errors.ts";
import { unescapedStar } from "./base/text-pattern.ts";
import { FILE_TOOLS, toolKey } from "./tools.ts";

/**
 * Syntactic shape of a rule's content. How it is matched also depends on the tool:
 * file tools treat every content as a path glob, web tools understand `domain:`.
 */
type RuleForm =
  /** `Tool`: any call of the tool. */
  | "tool"
  /** `Tool(git status)`: exactly that content. */
  | "exact"
  /** `Tool(git push:*)`: that content alone or followed by a space and anything. */
  | "prefix"
  /** `Tool(git diff *)`: `*` matches any run of characters. */
  | "wildcard"
  /** `web_fetch(domain:example.com)`: the URL's host is that domain or a subdomain. */
  | "domain";

export interface ParsedRule {
  /** The rule as written, trimmed. */
  rule: string;
  /** Lower-cased tool name as written; may contain `*` wildcards (`*`, `mcp__github__*`) and `\\*` escapes. */
  tool: string;
  /** The literal tool name (escapes removed) when the name has no wildcard; null when it has one. */
  toolName: string | null;
  /** Text between the parentheses, trimmed; null for a bare `Tool` rule. */
  content: string | null;
  form: RuleForm;
}

const TOOL_NAME = /^[^\s()]+$/;
const DOMAIN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d+)?$/;

/** `\\*` → `*`, `\\\\` → `\\`. */
export function unescapeStars(text: string): string {
  return text.replace(/\\([\\*])/g, "$1");
}

/**
 * A tool name as it must be written in a rule to match only that literal name: a tool
 * called `x*` is `x\\*`, not a wildcard. Null when no rule can name it (spaces, parentheses).
 */
export function escapeToolName(name: string): string | null {
  const key = toolKey(name);
  if (key.length === 0 || !TOOL_NAME.test(key)) return null;
  return key.replace(/[\\*]/g, "\\$&");
}

function literalTool(key: string): string | null {
  return unescapedStar(key) >= 0 ? null : unescapeStars(key);
}

function formOf(content: string): RuleForm {
  if (content.startsWith("domain:")) return "domain";
  if (content.endsWith(":*") && !content.endsWith("\\:*") && unescapedStar(content) === content.length - 1) return "prefix";
  return unescapedStar(content) >= 0 ? "wildcard" : "exact";
}

/**
 * Parses and validates a rule string: `Tool` or `Tool(content)`. Throws
 * PolicyRuleInvalidError with a reason a person can act on.
 */
export function parseRule(rule: string): ParsedRule {
  if (typeof rule !== "string") throw new PolicyRuleInvalidError(String(rule), "a rule must be a string");
  const raw = rule.trim();
  if (raw.length === 0) throw new PolicyRuleInvalidError(rule, "a rule cannot be empty");
  const open = raw.indexOf("(");
  if (open < 0) {
    if (raw.includes(")")) throw new PolicyRuleInvalidError(rule, 'found ")" without a matching "("');
    if (!TOOL_NAME.test(raw)) throw new PolicyRuleInvalidError(rule, "a tool name cannot contain spaces");
    const bare = toolKey(raw);
    return { rule: raw, tool: bare, toolName: literalTool(bare), content: null, form: "tool" };
  }
  const tool = raw.slice(0, open).trim();
  if (tool.length === 0) throw new PolicyRuleInvalidError(rule, 'missing tool name before "(", e.g. exec(git status)');
  if (!TOOL_NAME.test(tool)) throw new PolicyRuleInvalidError(rule, `"${tool}" is not a valid tool name`);
  if (!raw.endsWith(")")) {
    throw new PolicyRuleInvalidError(rule, raw.includes(")") ? 'unexpected text after the closing ")"' : 'missing closing ")"');
  }
  const content = raw.slice(open + 1, -1).trim();
  if (content.length === 0) throw new PolicyRuleInvalidError(rule, `empty content: write "${tool}" to match any call of the tool`);
  const form = formOf(content);
  const key = toolKey(tool);
  if (form === "domain") {
    const domain = content.slice("domain:".length).trim().toLowerCase();
    if (!DOMAIN.test(domain)) throw new PolicyRuleInvalidError(rule, `"${domain}" is not a domain (e.g. domain:example.com or domain:*.example.com)`);
  }
  const toolName = literalTool(key);
  if (toolName !== null && FILE_TOOLS.has(toolName)) {
    try {
      picomatch.makeRe(content, { dot: true });
    } catch (err) {
      throw new PolicyRuleInvalidError(rule, `invalid path glob: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { rule: raw, tool: key, toolName, content, form };
}

/** Characters that would make an exact path a glob. */
const GLOB_SPECIAL = /[\\*?[\]{}()!+@]/g;

/**
 * Builds the rule that matches exactly `content` for `tool`: what an allow-always saves.
 * Stars and backslashes are escaped (and every glob character for file tools) so the
 * saved rule cannot match more than what the approver saw.
 */
export function exactRule(tool: string, content: string | null, isPath: boolean): string | null {
  const name = escapeToolName(tool);
  if (name === null) return null;
  if (content === null) return name;
  const escaped = isPath ? content.replace(GLOB_SPECIAL, "\\$&") : content.replace(/[\\*]/g, "\\$&");
  // A trailing ":*" would read as the legacy prefix form; it is escaped above already.
  return `${name}(${escaped})`;
}
