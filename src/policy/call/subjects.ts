import type { SideEffect } from "../shell/effect-options.ts";
import type { ShellAnalysis } from "../shell/types.ts";

/** How a tool's call turns into the text rules match against. */
export type ContentKind = "shell" | "path" | "url" | "text" | "none";

/** One piece of a call that is judged on its own: a simple command, a path, a URL. */
export interface Part {
  /** Shown in reasons and in PolicyDecision.parts. */
  display: string;
  /** Texts rules match, outermost wrapper first (one entry for non-shell tools). */
  levels: string[];
  /** Further texts only deny/ask/dangerous rules look at. */
  denyOnly: string[];
  /** Allow rules may match levels[0..allowDepth]. */
  allowDepth: number;
  /** The URL's host, for `domain:` rules. */
  host?: string;
  /** Why this piece cannot be judged; it needs approval at least. */
  unparsed?: string;
  /** Runs code we cannot read (inline interpreter code, a script file): asks unless a rule decides. */
  opaque?: string;
  /** Only runs other parts (`bash -c '…'`): contributes deny/ask but no allowance of its own. */
  carrier?: boolean;
  /** The call has no content at all: only `Tool` and `Tool(*)` rules apply. */
  noContent?: boolean;
  /** Options that make a read tool write or run programs: an allow rule must name them (judge.ts). */
  effects?: readonly SideEffect[];
}

/** Text judged only by deny/ask/dangerous rules. */
export interface Composite {
  text: string;
  label: "pipeline" | "line" | "write";
}

export interface Subjects {
  kind: ContentKind;
  parts: Part[];
  composites: Composite[];
  /** The whole content, for exact rules and the allow-always rule; null when there is none. */
  whole: string | null;
  /** Exact content for the allow-always rule (a path or URL as given). */
  alwaysContent: string | null;
  shell?: ShellAnalysis;
}
