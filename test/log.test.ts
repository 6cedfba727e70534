import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger, loggerFromOpenClaw, routeConsoleToLogger } from "../src/log.ts";
import { clipText } from "../src/text/clip.ts";

function openClawLogger() {
  const lines: Array<[string, string]> = [];
  return {
    lines,
    logger: {
      debug: (m: string) => lines.push(["debug", m]),
      info: (m: string) => lines.push(["info", m]),
      warn: (m: string) => lines.push(["warn", m]),
      error: (m: string) => lines.push(["error", m]),
    },
  };
}

/** A file to log into; `read` waits for `lines` lines (pino writes asynchronously) and returns the text. */
function logFile(): { fd: number; read: (lines: number) => Promise<string> } {
  const path = join(mkdtempSync(join(tmpdir(), "cg-log-")), "out.log");
  const fd = openSync(path, "w");
  return {
    fd,
    read: async (lines) => {
      await expect.poll(() => readFileSync(path, "utf8").split("\n").length - 1, { timeout: 2_000 }).toBeGreaterThanOrEqual(lines);
      closeSync(fd);
      return readFileSync(path, "utf8");
    },
  };
}

describe("loggerFromOpenClaw", () => {
  it("sends each level to OpenClaw's matching method as one readable line, secrets redacted", () => {
    const { lines, logger } = openClawLogger();
    const log = loggerFromOpenClaw(logger, { level: "debug" });
    log.debug({ id: "ap_1" }, "waiting");
    log.info({ id: "ap_1", params: { command: "deploy", token: "xoxb-secret-123" } }, "approval created");
    log.warn("redis slow");
    log.error({ err: new Error("boom") }, "gate failed");
    log.fatal("down");
    expect(lines.map(([level]) => level)).toEqual(["debug", "info", "warn", "error", "error"]);
    expect(lines[0]?.[1]).toBe('waiting {"id":"ap_1"}');
    expect(lines[1]?.[1]).toMatch(/^approval created \{"id":"ap_1","params":\{"command":"deploy","token":"\[REDACTED\]"\}\}$/);
    expect(lines[2]?.[1]).toBe("redis slow");
    expect(lines[3]?.[1]).toContain('"message":"boom"');
    expect(lines[3]?.[1]).toContain('"stack":"Error: boom');
    expect(JSON.stringify(lines)).not.toContain("xoxb-secret-123");
  });

  it("drops debug when OpenClaw offers no debug method, and never throws into the caller", () => {
    const seen: string[] = [];
    const log = loggerFromOpenClaw(
      { info: (m) => seen.push(m), warn: () => undefined, error: () => {
        throw new Error("log file full");
      } },
      { level: "debug" },
    );
    log.debug("hidden");
    log.info("shown");
    expect(() => log.error("still fine")).not.toThrow();
    expect(seen).toEqual(["shown"]);
  });
});

describe("createLogger", () => {
  it("writes JSON lines when the destination is not a terminal", async () => {
    const f = logFile();
    const log = createLogger({ name: "t", destination: f.fd, level: "info" });
    log.info({ id: "ap_2" }, "hello");
    const line = JSON.parse((await f.read(1)).trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, name: "t", id: "ap_2", msg: "hello" });
  });

  it("writes human-readable lines with pino-pretty when asked (a terminal gets this by default)", async () => {
    const f = logFile();
    const log = createLogger({ name: "t", destination: f.fd, level: "info", format: "pretty" });
    log.info({ id: "ap_3" }, "hello");
    const text = await f.read(1);
    expect(text).toMatch(/INFO.*\(t\): hello/);
    expect(text).toContain('id: "ap_3"');
    expect(text).not.toContain('{"level"');
  });
});

describe("routeConsoleToLogger", () => {
  it("turns library console output into log lines and restores console afterwards", async () => {
    const f = logFile();
    const log = createLogger({ name: "t", destination: f.fd, level: "info" });
    const original = console.warn;
    const restore = routeConsoleToLogger(log);
    try {
      console.warn("IMPORTANT! Eviction policy is %s", "allkeys-lru");
      console.error(new Error("lost connection"));
    } finally {
      restore();
    }
    expect(console.warn).toBe(original);
    const lines = (await f.read(2)).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ level: 40, source: "console", msg: "IMPORTANT! Eviction policy is allkeys-lru" });
    expect(lines[1]).toMatchObject({ level: 50, source: "console" });
    expect(String(lines[1]?.msg)).toContain("Error: lost connection");
  });
});

describe("clipText", () => {
  it("keeps short text, clips long text with the remaining byte count and a hint", () => {
    expect(clipText("short", 10, "use --full")).toBe("short");
    expect(clipText("a".repeat(30), 10, "use --full")).toBe(`${"a".repeat(10)}… 20 more bytes, use --full`);
    // "é" is two UTF-8 bytes: the count is in bytes, as stored.
    expect(clipText(`${"a".repeat(10)}éé`, 10, "h")).toBe(`${"a".repeat(10)}… 4 more bytes, h`);
  });

  it("never splits a surrogate pair", () => {
    const clipped = clipText(`${"a".repeat(9)}😀tail`, 10, "h");
    expect(clipped).toBe(`${"a".repeat(9)}… 8 more bytes, h`);
  });
});
