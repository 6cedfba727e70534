import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/errors.ts";
import { codesLua, ScriptCode, scriptError } from "../../src/lua/codes.ts";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const INCLUDE = '-- @include "../../lua/codes.lua"';

/** Every script clawgate ships: src/<area>/lua/<name>.lua, as written (includes not expanded). */
function shippedScripts(): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  for (const area of readdirSync(SRC, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    let files: string[];
    try {
      files = readdirSync(`${SRC}${area.name}/lua`).filter((f) => f.endsWith(".lua"));
    } catch {
      continue;
    }
    for (const f of files) out.push({ name: `${area.name}/${f}`, text: readFileSync(`${SRC}${area.name}/lua/${f}`, "utf8") });
  }
  return out;
}

const members = Object.entries(ScriptCode).filter((e): e is [string, number] => typeof e[1] === "number");
const byName = new Map(members);

/**
 * What is wrong with one script's status codes: a status script names every code it returns as
 * `Code.<Name>` (no bare numbers), each one in the enum and listed in its header with its
 * number; a script whose header says `Returns data:` returns values, never a negative number
 * (negative numbers are status codes) and no `Code`.
 */
function problemsOf(name: string, text: string): string[] {
  const end = text.indexOf("]]");
  if (!text.startsWith("--[[") || end < 0) return [`${name}: no --[[ … ]] header`];
  const header = text.slice(0, end);
  const body = text
    .slice(end + 2)
    .split("\n")
    .map((line) => line.replace(/--.*$/, ""))
    .join("\n");
  const problems: string[] = [];
  const documented = new Map<string, number>();
  for (const m of header.matchAll(/Code\.(\w+) \((-?\d+)\)/g)) documented.set(m[1] as string, Number(m[2]));
  const returned = new Set([...body.matchAll(/\bCode\.(\w+)/g)].map((m) => m[1] as string));
  const literals = [...body.matchAll(/\breturn\s+(?:\{\s*)?(-?\d+)/g)].map((m) => Number(m[1]));

  if (/Returns data:/.test(header)) {
    if (documented.size || returned.size) problems.push(`${name}: a data script names status codes`);
    for (const n of literals) if (n < 0) problems.push(`${name}: returns ${n}, a negative number outside the ScriptCode enum`);
    return problems;
  }
  if (!/Returns\b/.test(header)) problems.push(`${name}: the header does not say what it returns`);
  if (!text.includes(INCLUDE)) problems.push(`${name}: returns status codes without including codes.lua`);
  if (returned.size === 0) problems.push(`${name}: returns no Code.<Name> (a data script says "Returns data:")`);
  for (const n of literals) problems.push(`${name}: returns the bare number ${n}; name it Code.<Name> from src/lua/codes.ts`);
  for (const code of returned) {
    if (!byName.has(code)) problems.push(`${name}: returns Code.${code}, which is not in the ScriptCode enum`);
    if (!documented.has(code)) problems.push(`${name}: returns Code.${code} but its header does not list it`);
  }
  for (const [code, n] of documented) {
    if (byName.get(code) !== n) problems.push(`${name}: the header says Code.${code} is ${n}, the enum says ${String(byName.get(code))}`);
    if (!returned.has(code)) problems.push(`${name}: the header lists Code.${code}, which it never returns`);
  }
  return problems;
}

/** What each code means to a caller that does not expect it: the catalogue code it becomes (ScriptCode-keyed, so a new member fails to compile until it is here). */
const CATALOGUE: Record<ScriptCode, ErrorCode> = {
  [ScriptCode.Done]: "internal",
  [ScriptCode.Duplicate]: "internal",
  [ScriptCode.Conflict]: "conflict",
  [ScriptCode.NotFound]: "approval_not_found",
  [ScriptCode.NotPending]: "approval_already_decided",
  [ScriptCode.Exists]: "approval_already_decided",
  [ScriptCode.SessionCapReached]: "too_many_pending",
  [ScriptCode.AgentCapReached]: "too_many_pending",
  [ScriptCode.NotDue]: "bad_request",
  [ScriptCode.AlwaysRefused]: "bad_request",
  [ScriptCode.Expired]: "approval_expired",
  [ScriptCode.TierFired]: "conflict",
  [ScriptCode.AuditHeadBroken]: "audit_broken",
  [ScriptCode.AuditSeqTaken]: "audit_broken",
  [ScriptCode.BadArgument]: "internal",
  [ScriptCode.AuditEntryGone]: "audit_broken",
  [ScriptCode.AuditTailMoved]: "audit_broken",
};

describe("Lua status codes", () => {
  it("every code a shipped script returns is named, in the enum and listed in the script's header", () => {
    const scripts = shippedScripts();
    expect(scripts.length).toBeGreaterThanOrEqual(13);
    expect(scripts.flatMap((s) => problemsOf(s.name, s.text))).toEqual([]);
  });

  it("every enum member is returned by some script, and no two members share a number", () => {
    const used = new Set(shippedScripts().flatMap((s) => [...s.text.matchAll(/\bCode\.(\w+)/g)].map((m) => m[1] as string)));
    expect(members.map(([name]) => name).filter((name) => !used.has(name))).toEqual([]);
    expect(new Set(members.map(([, n]) => n)).size).toBe(members.length);
  });

  it("the check catches a code left out of the enum, a bare number, an undocumented code and a data script returning a status", () => {
    const head = (returns: string) => `--[[\n  KEYS[1] x\n  ${returns}\n]]\n${INCLUDE}\n`;
    expect(problemsOf("a", `${head("Returns: Code.Done (1) ok")}if x then return -15 end\nreturn Code.Done\n`)).toEqual([
      "a: returns the bare number -15; name it Code.<Name> from src/lua/codes.ts",
    ]);
    expect(problemsOf("b", `${head("Returns: Code.Done (1) ok")}if x then return Code.Vanished end\nreturn Code.Done\n`)).toEqual([
      "b: returns Code.Vanished, which is not in the ScriptCode enum",
      "b: returns Code.Vanished but its header does not list it",
    ]);
    expect(problemsOf("c", `${head("Returns: Code.Done (1) ok · Code.NotFound (-4) gone")}if x then return { Code.NotFound } end\nreturn { Code.Done }\n`)).toEqual([
      "c: the header says Code.NotFound is -4, the enum says -1",
    ]);
    expect(problemsOf("d", "--[[\n  Returns data: a count\n]]\nif x then return -1 end\nreturn 3\n")).toEqual(["d: returns -1, a negative number outside the ScriptCode enum"]);
    expect(problemsOf("e", "--[[\n  Returns: 1 or 0\n]]\nreturn 1\n")).toEqual([
      "e: returns status codes without including codes.lua",
      'e: returns no Code.<Name> (a data script says "Returns data:")',
      "e: returns the bare number 1; name it Code.<Name> from src/lua/codes.ts",
    ]);
  });

  it("codes.lua is the enum (run `npm run gen:lua` after changing src/lua/codes.ts)", () => {
    expect(readFileSync(`${SRC}lua/codes.lua`, "utf8")).toBe(codesLua());
  });

  it("scriptError is the one mapper: each code becomes its catalogue error, an unknown number an internal one", () => {
    for (const [name, code] of members) {
      const err = scriptError(code, { id: "ap_0123456789ab", ended: "approved by alice via slack", who: "s1", count: 3, subject: "the audit head" });
      expect([name, err.code]).toEqual([name, CATALOGUE[code as ScriptCode]]);
      expect(err.message).not.toMatch(/unknown Lua status/);
    }
    expect(scriptError(ScriptCode.NotPending, { id: "ap_0123456789ab", ended: "approved by alice via slack" }).message).toBe("approval ap_0123456789ab was already approved by alice via slack");
    expect(scriptError(ScriptCode.SessionCapReached, { who: "s1", count: 3 }).message).toMatch(/session "s1" already has 3 approvals waiting/);
    expect(scriptError(-99, { id: "x" })).toMatchObject({ code: "internal", message: 'unknown Lua status code -99 (x)' });
  });
});
