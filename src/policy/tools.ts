import type { ContentKind } from "./call/subjects.ts";

/** Built-in OpenClaw tools whose content is one or more file paths. */
export const FILE_TOOLS: ReadonlySet<string> = new Set(["read", "write", "edit", "apply_patch"]);
/** File tools that change files: what `acceptEdits` lets through. */
export const EDIT_TOOLS: ReadonlySet<string> = new Set(["write", "edit", "apply_patch"]);
/** Built-in tools whose content is a URL. */
const URL_TOOLS: ReadonlySet<string> = new Set(["web_fetch", "browser"]);

/**
 * Tool names are matched case-insensitively, so rules written the Claude Code way
 * (`Bash(…)`, `Read(…)`) work against OpenClaw's lower-case tool names.
 */
export function toolKey(name: string): string {
  return name.toLowerCase();
}

export class ToolKinds {
  private readonly shell: ReadonlySet<string>;
  private readonly paramKeys: ReadonlyMap<string, readonly string[]>;

  /** `config`: the policy's shellTools and paramKeys (PolicyConfig in schema.ts, which parses rules with rule.ts, which needs this module). */
  constructor(config: { shellTools: readonly string[]; paramKeys: Readonly<Record<string, string | readonly string[]>> }) {
    this.shell = new Set(config.shellTools.map(toolKey));
    // `{ deploy: "service" }` is the agent-permissions manifest form of `{ deploy: ["service"] }`.
    this.paramKeys = new Map(Object.entries(config.paramKeys).map(([k, v]) => [toolKey(k), typeof v === "string" ? [v] : v]));
  }

  /**
   * Tools whose rules also hold for `tool`. Rules written for one shell tool hold for all of
   * them (`exec(rm -rf *)` also guards `bash`), and rules for one file-editing tool hold for
   * all three (`write(/etc/**)` also stops `edit` and `apply_patch`).
   */
  ruleTools(tool: string): readonly string[] {
    if (this.shell.has(tool)) return [...this.shell];
    if (EDIT_TOOLS.has(tool)) return [...EDIT_TOOLS];
    return [tool];
  }

  kindOf(tool: string): ContentKind {
    if (this.shell.has(tool)) return "shell";
    if (FILE_TOOLS.has(tool)) return "path";
    if (URL_TOOLS.has(tool)) return "url";
    if (this.paramKeys.has(tool)) return "text";
    return "none";
  }

  keysOf(tool: string): readonly string[] {
    return this.paramKeys.get(tool) ?? [];
  }
}
