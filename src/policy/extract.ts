import { analyseArgv, analyseShell, MAX_COMMAND_LENGTH } from "./shell/analyse.ts";
import { fastSplit } from "./shell/fast-path.ts";
import type { ShellAnalysis } from "./shell/types.ts";
import { isSensitiveAssignment } from "./shell/wrappers.ts";
import { normalisePath, patchPaths, withoutParentSegments } from "./paths.ts";
import type { Composite, Part, Subjects } from "./call/subjects.ts";
import { collapseSpaces } from "./base/text-pattern.ts";
import type { ToolKinds } from "./tools.ts";
import type { ToolCall } from "./call/tool-call.ts";
import { typedInput } from "./base/typed-input.ts";
import { parseUrl } from "./url.ts";

const NO_CONTENT: Part = { display: "", levels: [""], denyOnly: [], allowDepth: 0, noContent: true };

function unparsedPart(display: string, why: string): Part {
  return { display, levels: [display], denyOnly: [], allowDepth: 0, unparsed: why };
}

function single(kind: Subjects["kind"], part: Part, whole: string | null = null): Subjects {
  return { kind, parts: [part], composites: [], whole, alwaysContent: whole };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/*
 * Not cached per analysis: a call seen before is answered from the engine's decision cache,
 * and a WeakMap keyed by every fresh analysis made the young-generation GC keep them all.
 */
function fromAnalysis(a: ShellAnalysis): Subjects {
  const parts: Part[] = a.commands.map((c) => {
    const part: Part = { display: c.levels[0] ?? "", levels: c.levels, denyOnly: c.denyOnly, allowDepth: c.allowDepth };
    if (c.unparsed !== undefined) part.unparsed = c.unparsed;
    if (c.opaque !== undefined) part.opaque = c.opaque;
    if (c.carrier) part.carrier = true;
    if (c.effects !== undefined) part.effects = c.effects;
    return part;
  });
  // A line made only of carriers (`bash -c ''`) has nothing else to judge: judge the carriers.
  if (parts.length > 0 && parts.every((p) => p.carrier)) for (const p of parts) delete p.carrier;
  const composites: Composite[] = [
    ...a.composites.map((c) => ({ text: c.text, label: c.kind })),
    ...a.writes.map((w) => ({ text: w, label: "write" as const })),
  ];
  return { kind: "shell", parts, composites, whole: a.whole, alwaysContent: a.whole, shell: a };
}

function mergeAnalyses(x: ShellAnalysis, y: ShellAnalysis): ShellAnalysis {
  return { commands: [...x.commands, ...y.commands], composites: [...x.composites, ...y.composites], whole: x.whole, writes: [...x.writes, ...y.writes] };
}

/**
 * OpenClaw's exec takes an `env` param: PATH or LD_PRELOAD set there changes what the
 * command runs just like `PATH=… cmd` would, so it needs approval.
 */
function withEnv(subjects: Subjects, env: unknown): Subjects {
  if (!isRecord(env)) return subjects;
  const sensitive = Object.keys(env).find(isSensitiveAssignment);
  if (sensitive === undefined) return subjects;
  const part = unparsedPart(`env ${sensitive}=…`, `sets ${sensitive} for the command (params.env)`);
  return { ...subjects, parts: [...subjects.parts, part], alwaysContent: null };
}

function shellSubjects(params: Record<string, unknown>): Subjects {
  return withEnv(commandSubjects(params), params["env"]);
}

/** A shell-tool call with nothing we can judge as its command: it needs approval, never passes. */
function noCommand(why: string): Subjects {
  return single("shell", unparsedPart("(no command)", why));
}

function commandSubjects(params: Record<string, unknown>): Subjects {
  const command = params["command"];
  if (command === undefined || command === null) {
    // OpenClaw's process tool (`{ action: "poll", sessionId }`) drives sessions exec started;
    // what it types into them (`write`, `send-keys`, `paste`) is judged as a command line.
    if (typeof params["action"] === "string") return typedSubjects(params);
    return noCommand("the call has no command param");
  }
  if (typeof command === "string") {
    if (command.trim().length === 0) return noCommand("the command is empty");
    return fromAnalysis(analyseShell(command));
  }
  if (Array.isArray(command)) {
    if (command.length === 0) return noCommand("the command array is empty");
    if (!command.every((w): w is string => typeof w === "string")) return single("shell", unparsedPart("[command array]", "the command array holds non-string items"));
    if (command.reduce((n, w) => n + w.length, 0) > MAX_COMMAND_LENGTH) return fromAnalysis(analyseShell(command.join(" ")));
    const argv = analyseArgv(command);
    // We do not know whether the runtime joins the array into a shell line: if that could
    // change its meaning, judge both readings.
    const joined = command.join(" ");
    return fromAnalysis(fastSplit(joined) ? argv : mergeAnalyses(argv, analyseShell(joined)));
  }
  return single("shell", unparsedPart(describe(command), "the command is not a string"));
}

function typedSubjects(params: Record<string, unknown>): Subjects {
  const typed = typedInput(params);
  if (typed === null) return single("shell", NO_CONTENT);
  if (typed.text.trim().length === 0) return typed.unclear === null ? single("shell", NO_CONTENT) : single("shell", unparsedPart("(keys)", typed.unclear));
  const subjects = fromAnalysis(analyseShell(typed.text));
  if (typed.unclear === null) return subjects;
  // Asks at least (a deny rule still denies), and is never remembered as allow-always.
  return { ...subjects, parts: [...subjects.parts, unparsedPart(subjects.whole ?? typed.text.trim(), typed.unclear)], alwaysContent: null };
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "[array]";
  return typeof v === "object" ? "[object]" : String(v).slice(0, 80);
}

const PATH_KEYS = ["path", "file_path", "filePath"] as const;

function pathSubjects(tool: string, params: Record<string, unknown> | null, derived: readonly unknown[]): Subjects {
  const raw: string[] = [];
  const problems: Part[] = [];
  if (params) {
    for (const key of PATH_KEYS) {
      const v = params[key];
      if (typeof v === "string") raw.push(v);
      else if (v !== undefined && v !== null) problems.push(unparsedPart(describe(v), `"${key}" is not a string`));
    }
    const list = params["paths"];
    if (Array.isArray(list)) for (const v of list) if (typeof v === "string") raw.push(v);
    if (tool === "apply_patch") {
      const patch = params["input"] ?? params["patch"];
      if (typeof patch === "string") {
        const found = patchPaths(patch);
        if (found.length === 0) problems.push(unparsedPart(patch.slice(0, 80), "no file names found in the patch"));
        raw.push(...found);
      }
    }
  }
  for (const d of derived) if (typeof d === "string") raw.push(d);
  const seen = new Set<string>();
  const parts: Part[] = [...problems];
  for (const r of raw) {
    if (r.trim().length === 0) continue;
    const p = normalisePath(r);
    if (seen.has(p)) continue;
    seen.add(p);
    const up = withoutParentSegments(p);
    parts.push({ display: r.trim(), levels: [p], denyOnly: up ? [up] : [], allowDepth: 0 });
  }
  if (parts.length === 0) return single("path", NO_CONTENT);
  const only = seen.size === 1 && problems.length === 0 ? (parts[0]?.display ?? null) : null;
  return { kind: "path", parts, composites: [], whole: only, alwaysContent: only };
}

function urlSubjects(params: Record<string, unknown>): Subjects {
  const url = params["url"] ?? params["targetUrl"];
  if (url === undefined || url === null) return single("url", NO_CONTENT);
  if (typeof url !== "string") return single("url", unparsedPart(describe(url), "the URL is not a string"));
  const parsed = parseUrl(url);
  if (!parsed) return single("url", unparsedPart(url.slice(0, 200), "it is not a URL with a host"));
  const raw = url.trim();
  const levels = parsed.href === raw ? [raw] : [parsed.href, raw];
  return single("url", { display: raw, levels, denyOnly: [], allowDepth: levels.length - 1, host: parsed.host }, raw);
}

/** Beyond this, plugin-tool content is not matched (it would also be unreadable to an approver). */
const MAX_TEXT_CONTENT = 64 * 1024;

function textSubjects(keys: readonly string[], params: Record<string, unknown>): Subjects {
  const values: string[] = [];
  for (const key of keys) {
    const v = params[key];
    if (v === undefined || v === null) continue;
    if (typeof v === "string") values.push(v);
    else if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") values.push(String(v));
    else {
      let json: string | undefined;
      try {
        json = JSON.stringify(v);
      } catch {
        return single("text", unparsedPart(`[${key}]`, `"${key}" cannot be serialised`));
      }
      if (json !== undefined) values.push(json);
    }
    if (values.reduce((n, s) => n + s.length, 0) > MAX_TEXT_CONTENT) return single("text", unparsedPart(`[${key}]`, "its content is larger than 64 KiB"));
  }
  if (values.length === 0) return single("text", NO_CONTENT);
  const content = collapseSpaces(values.join(" ").trim());
  return single("text", { display: content, levels: [content], denyOnly: [], allowDepth: 0 }, content);
}

/** Turns a tool call into the pieces rules are matched against. */
export function extractSubjects(call: ToolCall, tool: string, kinds: ToolKinds): Subjects {
  const kind = kinds.kindOf(tool);
  const params = isRecord(call.params) ? call.params : null;
  const derived = Array.isArray(call.derivedPaths) ? call.derivedPaths : [];
  if (kind === "none") return single("none", NO_CONTENT);
  if (kind === "path") {
    if (!params && derived.length === 0 && call.params !== undefined && call.params !== null) return single("path", unparsedPart(describe(call.params), "its params are not an object"));
    return pathSubjects(tool, params, derived);
  }
  if (!params) {
    if (kind === "shell" && (call.params === undefined || call.params === null)) return noCommand("the call has no params");
    if (call.params === undefined || call.params === null) return single(kind, NO_CONTENT);
    return single(kind, unparsedPart(describe(call.params), "its params are not an object"));
  }
  if (kind === "shell") return shellSubjects(params);
  if (kind === "url") return urlSubjects(params);
  return textSubjects(kinds.keysOf(tool), params);
}
