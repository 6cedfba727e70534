// Smoke test of the e2e harness against the real OpenClaw gateway, with only the
// test-tools plugin and the throwaway probe-gate plugin loaded (clawgate itself is
// not involved). Besides allow / block / slow-allow over POST /tools/invoke it pins
// down the OpenClaw behaviour clawgate relies on; see e2e/README.md ("Findings").
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, startGateway, type Gateway } from "./harness/gateway.ts";

const BLOCK_REASON = "probe-gate: command contains a forbidden word";
const HOOK_FAILED = "Tool call blocked because before_tool_call hook failed";

type ProbeRecord = Record<string, any> & { t: number; pid: number; event: string };

function probeLogPath(): string {
  const dir = path.join(tmpdir(), "clawgate-e2e");
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `probe-${randomUUID()}.jsonl`);
}

function readProbe(file: string): ProbeRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeRecord);
}

async function waitForRecord(file: string, pred: (r: ProbeRecord) => boolean, timeoutMs = 10_000): Promise<ProbeRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = readProbe(file).find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`probe record not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const BASE_PLUGINS = [fixture("test-tools"), fixture("probe-gate")];

describe("gateway with test-tools + probe-gate", () => {
  let gw: Gateway;
  const probeLog = probeLogPath();
  const probeConfig = { probeLog, label: "smoke", redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" };
  const forGateway = (r: ProbeRecord) => r.pid === gw.pid;

  beforeAll(async () => {
    gw = await startGateway({
      plugins: BASE_PLUGINS,
      pluginEntries: {
        "e2e-test-tools": { enabled: true },
        "e2e-probe-gate": { enabled: true, config: probeConfig },
      },
    });
    console.info(`[smoke] gateway pid ${gw.pid} on ${gw.url}; start timings (ms): ${JSON.stringify(gw.timings)}`);
  });

  afterAll(async () => {
    await gw?.stop();
    rmSync(probeLog, { force: true });
  });

  it("allows an ordinary command (200, tool result echoed)", async () => {
    const r = await gw.invoke("e2e_exec", { command: "echo hello" });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(r.body.result.details).toEqual({ wouldRun: "echo hello", executed: false });

    const w = await gw.invoke("e2e_write", { path: "/tmp/never-written.txt", content: "abc" });
    expect(w.status).toBe(200);
    expect(w.body.result.details.written).toBe(false);
    expect(w.body.result.details.wouldWrite).toMatchObject({ path: "/tmp/never-written.txt", bytes: 3 });
  });

  it("blocks a forbidden command (403, blockReason in error.message)", async () => {
    const r = await gw.invoke("e2e_exec", { command: "rm -rf / # forbidden" });
    expect(r.status).toBe(403);
    expect(r.body.ok).toBe(false);
    expect(r.body.error.type).toBe("tool_call_blocked");
    expect(r.body.error.message).toContain(BLOCK_REASON);
  });

  it("waits in the hook, then allows (200 after >= 3 s)", async () => {
    const r = await gw.invoke("e2e_exec", { command: "make slow" });
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThanOrEqual(3_000);
  });

  it("does not expose built-in exec over HTTP (404)", async () => {
    const r = await gw.invoke("exec", { command: "true" });
    expect(r.status).toBe(404);
  });

  it("rejects a wrong token (401)", async () => {
    const r = await gw.invoke("e2e_exec", { command: "echo" }, { token: "wrong" });
    expect(r.status).toBe(401);
  });

  it("(a) plugin loaded via plugins.load.paths imports ../shared-helper.ts and ioredis from the root node_modules", async () => {
    const reg = await waitForRecord(probeLog, (r) => forGateway(r) && r.event === "register");
    expect(reg.sharedHelper).toBe("shared-helper-ok");
    expect(reg.nodeVersion).toMatch(/^v24\./);
    const redis = await waitForRecord(probeLog, (r) => forGateway(r) && r.event === "redis");
    expect(redis, JSON.stringify(redis)).toMatchObject({ ok: true, pong: "PONG" });
    // OpenClaw runs plugin modules from captured copies under <stateDir>/tmp/plugin-captures/…:
    // files inside the plugin root come along, non-module files next to modules OUTSIDE it do not.
    expect(reg.entryModuleUrl).toContain(`${gw.stateDir}/tmp/plugin-captures/`);
    expect(reg.helperModuleUrl).toContain("/tmp/plugin-captures/");
    expect(reg.assetInsidePluginRoot).toEqual({ ok: true, text: "plugin-asset-ok" });
    expect(reg.assetOutsidePluginRoot.ok).toBe(false);
    expect(reg.assetOutsidePluginRoot.error).toMatch(/ENOENT/);
    // register() runs more than once per gateway process (observed: twice, before /readyz)
    const registers = readProbe(probeLog).filter((r) => forGateway(r) && r.event === "register").length;
    const modes = readProbe(probeLog)
      .filter((r) => r.event === "register")
      .map((r) => `${r.pid === gw.pid ? "gateway" : `cli:${r.pid}`}:${r.registrationMode}`);
    console.info(`[smoke] probe register() calls: ${registers} in the gateway process; all (process:registrationMode): ${modes.join(", ")}`);
    expect(registers).toBeGreaterThanOrEqual(1);
    // registered services start once, in the gateway process only
    const starts = readProbe(probeLog).filter((r) => r.event === "service-start");
    expect(starts.map((r) => r.pid)).toEqual([gw.pid]);
  });

  it("(e) api.pluginConfig is the entry's config with schema defaults applied; api.config is the whole OpenClaw config", async () => {
    const reg = await waitForRecord(probeLog, (r) => forGateway(r) && r.event === "register");
    // the entry's config, plus the manifest configSchema's `default`s filled in
    expect(reg.pluginConfig).toEqual({ ...probeConfig, withDefault: "schema-default" });
    expect(reg.hasWholeConfig).toBe(true);
    expect(reg.wholeConfigHasGateway).toBe(true);
  });

  it("(b) timeoutMs in api.on is honoured (20 s allow passes); the default 15 s budget fails closed", async () => {
    const [withBudget, defaultBudget] = await Promise.all([
      gw.invoke("e2e_exec", { command: "slow:20000" }),
      gw.invoke("e2e_exec", { command: "slowdefault:20000" }),
    ]);
    expect(withBudget.status).toBe(200);
    expect(withBudget.ms).toBeGreaterThanOrEqual(20_000);
    expect(defaultBudget.status).toBe(403);
    expect(defaultBudget.body.error.message).toBe(HOOK_FAILED);
    expect(defaultBudget.ms).toBeGreaterThanOrEqual(14_900);
    expect(defaultBudget.ms).toBeLessThan(19_000);
    expect(gw.logs()).toMatch(/before_tool_call hook failed: tool=e2e_exec .*timed out after 15000ms/);
  });

  it("(d) ctx on POST /tools/invoke: agentId, sessionKey, toolCallId, abortSignal; no requester/runId/sessionId", async () => {
    const idem = `ctx-${randomUUID()}`;
    const r = await gw.invoke("e2e_exec", { command: "ctx probe" }, { idempotencyKey: idem });
    expect(r.status).toBe(200);
    const rec = await waitForRecord(probeLog, (x) => x.event === "before_tool_call" && x.params?.command === "ctx probe");
    expect(rec.toolCallId).toBe(`http-direct-operator-${idem}`);
    expect(rec.ctxKeys).toEqual(["abortSignal", "agentId", "sessionKey", "toolCallId", "toolName"]);
    expect(rec.eventKeys).toEqual(["params", "toolCallId", "toolName"]);
    expect(rec.agentId).toBe("main");
    expect(rec.sessionKey).toBe("agent:main:main");
    expect(rec.requester).toBeNull();
    expect(rec.hasAbortSignal).toBe(true);
    expect(rec.abortSignalAborted).toBe(false);
    // Quirk: the per-request signal is aborted as cleanup right AFTER the call completes,
    // even for allowed calls. A gate must detach its listener once it has decided.
    const after = await waitForRecord(probeLog, (x) => x.event === "abort" && x.text === "ctx probe");
    expect(after.reason).toMatch(/AbortError/);

    // sessionKey from the request body is passed through
    const s = await gw.invoke("e2e_exec", { command: "ctx session" }, { sessionKey: "agent:main:e2e-custom" });
    expect(s.status).toBe(200);
    const srec = await waitForRecord(probeLog, (x) => x.event === "before_tool_call" && x.params?.command === "ctx session");
    expect(srec.sessionKey).toBe("agent:main:e2e-custom");
  });

  it("(d) abortSignal fires when the HTTP client disconnects", async () => {
    const t0 = Date.now();
    await expect(gw.invoke("e2e_exec", { command: "slow:10000 disconnect" }, { timeoutMs: 1_000 })).rejects.toThrow();
    const abort = await waitForRecord(probeLog, (x) => x.event === "abort" && x.text === "slow:10000 disconnect", 5_000);
    expect(abort.reason).toMatch(/ClientDisconnectError/);
    expect(abort.t - t0).toBeLessThan(4_000);
    const done = await waitForRecord(probeLog, (x) => x.event === "slow-done" && x.text === "slow:10000 disconnect", 5_000);
    expect(done.outcome).toBe("aborted");
  });

  it("(c) a registerCommand command runs without a chat channel via the gateway's chat.send (webchat surface)", async () => {
    const idem = `cmd-${randomUUID()}`;
    const { result } = await gw.call("chat.send", {
      sessionKey: "agent:main:main",
      message: "/e2eprobe hello world",
      idempotencyKey: idem,
    });
    expect(result).toMatchObject({ runId: idem, status: "started" });
    const cmd = await waitForRecord(probeLog, (x) => x.event === "command" && x.args === "hello world", 15_000);
    expect(cmd).toMatchObject({
      channel: "webchat",
      channelId: "webchat",
      senderId: "cli",
      from: "cli",
      isAuthorizedSender: true,
      agentId: "main",
      sessionKey: "agent:main:main",
      commandBody: "/e2eprobe hello world",
      gatewayClientScopes: ["operator.write"],
    });
    // The reply lands in the session transcript (no model involved).
    const deadline = Date.now() + 15_000;
    let texts: string[] = [];
    while (Date.now() < deadline) {
      const { result: hist } = await gw.call("chat.history", { sessionKey: "agent:main:main", limit: 10 });
      texts = (hist.messages ?? [])
        .filter((m: any) => m.role === "assistant")
        .flatMap((m: any) => (Array.isArray(m.content) ? m.content.map((c: any) => c.text ?? "") : [String(m.content)]));
      if (texts.some((t) => t.includes("e2eprobe ok args=hello world"))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(texts.join("\n")).toContain("e2eprobe ok args=hello world channel=webchat");
  });
});

describe("operator hook budget and config validation", () => {
  it("(b) plugins.entries.<id>.hooks.timeouts.before_tool_call overrides the plugin's timeoutMs", async () => {
    const probeLog = probeLogPath();
    const gw = await startGateway({
      plugins: BASE_PLUGINS,
      pluginEntries: {
        "e2e-test-tools": { enabled: true },
        "e2e-probe-gate": { enabled: true, config: { probeLog }, hooks: { timeouts: { before_tool_call: 2_000 } } },
      },
      preflight: false, // covered above; keeps this test shorter
    });
    try {
      const r = await gw.invoke("e2e_exec", { command: "slow:3000" });
      expect(r.status).toBe(403);
      expect(r.body.error.message).toBe(HOOK_FAILED);
      expect(r.ms).toBeGreaterThanOrEqual(1_900);
      expect(r.ms).toBeLessThan(3_000);
      const ok = await gw.invoke("e2e_exec", { command: "fast" });
      expect(ok.status).toBe(200);
      // (e) JSON-Schema `default`s from the manifest ARE applied to api.pluginConfig
      const reg = readProbe(probeLog).find((r) => r.pid === gw.pid && r.event === "register");
      expect(reg?.pluginConfig).toEqual({ probeLog, withDefault: "schema-default" });
      await gw.stop();
      // SIGTERM lets the gateway stop registered services
      expect(readProbe(probeLog).filter((r) => r.event === "service-stop").map((r) => r.pid)).toEqual([gw.pid]);
    } finally {
      await gw.stop();
      rmSync(probeLog, { force: true });
    }
    // stop() leaves nothing behind: the gateway and its worker processes (same group) are gone
    expect(gw.alive()).toBe(false);
    expect(() => process.kill(-gw.pid, 0)).toThrow();
    expect(existsSync(gw.tmpDir)).toBe(false);
  });

  it("(e) a config rejected by the plugin's configSchema fails `config validate`, and the gateway refuses to start", async () => {
    const probeLog = probeLogPath();
    const opts = {
      plugins: BASE_PLUGINS,
      pluginEntries: {
        "e2e-test-tools": { enabled: true },
        "e2e-probe-gate": { enabled: true, config: { probeLog, bogus: 1 } },
      },
    };
    await expect(startGateway(opts)).rejects.toThrow(/must not have additional properties: \\?"bogus\\?"/);
    // Without the preflight the gateway itself exits with EX_CONFIG (78) before listening; on a
    // fresh state dir it only says "config is invalid" (the detail comes from `config validate`).
    await expect(startGateway({ ...opts, preflight: false, readyTimeoutMs: 45_000 })).rejects.toThrow(
      /exited early \(code 78[\s\S]*OpenClaw config is invalid/,
    );
    // the plugin was never registered (no process got as far as calling register())
    expect(existsSync(probeLog)).toBe(false);
  });
});
