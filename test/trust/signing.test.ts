import { createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Resolution } from "../../src/approvals/record.ts";
import { signDecision, verifyResolution } from "../../src/trust/decisions.ts";
import { createKeyFiles, Keyring, keysDir, listKeyFiles, loadSigner, rotateKeyFiles, trustedKeys } from "../../src/trust/keyring.ts";
import { generateKey, parsePublicKey } from "../../src/trust/keys.ts";
import { KeySigner, verifySignature } from "../../src/trust/signature.ts";
import { decisionPayload } from "../../src/trust/payloads.ts";

const call = { id: "ap_0123456789ab", paramsHash: "a".repeat(64), rule: "" };

function signerOf(use: "decision" | "chat" = "decision") {
  const k = generateKey();
  return { signer: new KeySigner(k.info.id, use, createPrivateKey(k.privatePem)), text: k.info.text };
}

function keyring(entries: Array<{ text: string; use: "decision" | "chat"; until?: number | null }>): Keyring {
  return new Keyring(() =>
    entries.map((e) => {
      const info = parsePublicKey(e.text);
      return { id: info.id, use: e.use, key: info.key, text: info.text, until: e.until ?? null, origin: "test" };
    }),
  );
}

function approval(signer: KeySigner, over: Partial<Resolution> = {}, facts = call): Resolution {
  const base = { id: facts.id, state: "approved" as const, decision: "allow-once" as const, decidedBy: "slack:U0ALICE", decidedVia: "slack", reason: "", decidedAt: 1_700_000_000_000, ...over };
  return { ...base, sig: signDecision(signer, { id: facts.id, paramsHash: facts.paramsHash, decision: base.decision, by: base.decidedBy, via: base.decidedVia, at: base.decidedAt, rule: facts.rule }) };
}

describe("decision signatures", () => {
  const serve = signerOf("decision");
  const chat = signerOf("chat");
  const keys = keyring([{ text: serve.text, use: "decision" }, { text: chat.text, use: "chat" }]);

  it("an approval signed by a trusted decision key for this very call verifies", () => {
    expect(verifyResolution(keys, approval(serve.signer), call)).toMatchObject({ ok: true, key: { use: "decision" } });
  });

  it("closing states need no signature; an approval without one is refused", () => {
    for (const state of ["denied", "expired", "cancelled"] as const) expect(verifyResolution(keys, { ...approval(serve.signer), state, sig: undefined }, call).ok).toBe(true);
    expect(verifyResolution(keys, { ...approval(serve.signer), sig: undefined }, call)).toEqual({ ok: false, why: "unsigned" });
  });

  it("every signed fact counts: another approval, other params, another decider, time, decision or rule fails", () => {
    const good = approval(serve.signer);
    const cases: Array<[string, Resolution, typeof call]> = [
      ["another approval id", good, { ...call, id: "ap_0123456789ac" }],
      ["other params", good, { ...call, paramsHash: "b".repeat(64) }],
      ["another decider", { ...good, decidedBy: "slack:U0MALLORY" }, call],
      ["another channel", { ...good, decidedVia: "email" }, call],
      ["another time", { ...good, decidedAt: good.decidedAt + 1 }, call],
      ["allow-always instead of once", { ...good, decision: "allow-always" }, call],
    ];
    for (const [what, r, facts] of cases) expect(verifyResolution(keys, r, facts).ok, what).toBe(false);
    const always = approval(serve.signer, { decision: "allow-always" }, { ...call, rule: "exec(git push origin main)" });
    expect(verifyResolution(keys, always, { ...call, rule: "exec(git push origin main)" }).ok).toBe(true);
    expect(verifyResolution(keys, always, { ...call, rule: "exec(*)" }).ok).toBe(false);
  });

  it("an untrusted key, a tampered or malformed signature, and a retired key are refused", () => {
    const stranger = signerOf("decision");
    expect(verifyResolution(keys, approval(stranger.signer), call)).toMatchObject({ ok: false, why: expect.stringContaining("does not trust") });
    const good = approval(serve.signer);
    // A character well inside the signature: base64url's last character carries padding bits, so changing it may decode to the same bytes.
    const sig = good.sig ?? "";
    const at = sig.length - 20;
    const flipped = `${sig.slice(0, at)}${sig[at] === "A" ? "B" : "A"}${sig.slice(at + 1)}`;
    expect(verifyResolution(keys, { ...good, sig: flipped }, call)).toMatchObject({ ok: false, why: expect.stringContaining("does not match") });
    for (const sig of ["", "x", `${serve.signer.id}.short`, `${serve.signer.id.toUpperCase()}.${"A".repeat(86)}`]) expect(verifyResolution(keys, { ...good, sig }, call).ok).toBe(false);
    const retired = keyring([{ text: serve.text, use: "decision", until: Date.now() - 1 }]);
    expect(verifyResolution(retired, good, call)).toMatchObject({ ok: false, why: expect.stringContaining("retired") });
  });

  it("a chat key signs only /clawgate decisions made in OpenClaw chat", () => {
    expect(verifyResolution(keys, approval(chat.signer, { decidedBy: "openclaw:telegram:42", decidedVia: "openclaw" }), call).ok).toBe(true);
    expect(verifyResolution(keys, approval(chat.signer), call)).toMatchObject({ ok: false, why: expect.stringContaining("chat key") });
    expect(verifyResolution(keys, approval(chat.signer, { decidedBy: "slack:U0ALICE", decidedVia: "openclaw" }), call).ok).toBe(false);
  });

  it("a signature for one purpose is not one for another", () => {
    const payload = decisionPayload({ id: call.id, paramsHash: call.paramsHash, decision: "allow-once", by: "x", via: "y", at: 1, rule: "" });
    const sig = serve.signer.sign(payload);
    expect(verifySignature(keys, payload, sig, ["decision"]).ok).toBe(true);
    expect(verifySignature(keys, Buffer.from(JSON.stringify(["clawgate/rules", 1])), sig, ["decision"]).ok).toBe(false);
  });
});

describe("key files", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cg-keys-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const config = (over: Record<string, unknown> = {}) => ({ keys: { dir, trusted: [], ...over } as never });

  it("create writes a 0600 private key and a public file; serve signs with it and gates reading the folder trust it", () => {
    const made = createKeyFiles(dir, "decision");
    expect(statSync(made.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const signer = loadSigner(config(), { configSource: null }, "decision");
    expect(signer?.id).toBe(made.id);
    expect(trustedKeys(config(), { configSource: null }).map((k) => k.id)).toEqual([made.id]);
    expect(loadSigner(config(), { configSource: null }, "chat")).toBeNull();
  });

  it("keys.trusted replaces the folder for what is trusted, and a malformed entry is an error naming it", () => {
    createKeyFiles(dir, "decision");
    const other = generateKey();
    expect(trustedKeys(config({ trusted: [other.info.text] }), { configSource: null }).map((k) => k.id)).toEqual([other.info.id]);
    expect(() => trustedKeys(config({ trusted: ["ed25519:nope"] }), { configSource: null })).toThrow(/keys\.trusted\[0\].*not an Ed25519 public key/);
  });

  it("rotate: the new key signs from its activation on, the old one stays honoured for the overlap, then not", () => {
    const first = createKeyFiles(dir, "decision", { now: 1_000 });
    const now = Date.now();
    const { created, retired } = rotateKeyFiles(dir, "decision", { now, activateInMs: 60_000, overlapMs: 3_600_000 });
    expect(retired).toEqual([{ id: first.id, until: new Date(now + 60_000 + 3_600_000).toISOString() }]);
    // Before activation the retiring key still signs; after, the new one.
    expect(loadSigner(config(), { configSource: null }, "decision", now + 1_000)?.id).toBe(first.id);
    expect(loadSigner(config(), { configSource: null }, "decision", now + 61_000)?.id).toBe(created.id);
    const trusted = trustedKeys(config(), { configSource: null });
    expect(trusted.find((k) => k.id === first.id)?.until).toBe(now + 3_660_000);
    expect(listKeyFiles(dir).map((f) => f.id).sort()).toEqual([first.id, created.id].sort());
  });

  it("a key file that does not match its name or holds no key is refused, naming the file", () => {
    const made = createKeyFiles(dir, "decision");
    writeFileSync(made.pubPath, JSON.stringify({ key: generateKey().info.text, use: "decision", created: new Date().toISOString() }));
    expect(() => listKeyFiles(dir)).toThrow(made.pubPath);
    writeFileSync(made.pubPath, "{");
    expect(() => listKeyFiles(dir)).toThrow(/not a clawgate key file/);
    expect(readFileSync(made.keyPath, "utf8")).toContain("BEGIN PRIVATE KEY");
  });

  it("keys.dir defaults to data/keys next to the config file", () => {
    expect(keysDir({ keys: { dir: "", trusted: [] } as never }, { configSource: "/etc/clawgate/clawgate.yaml" })).toBe("/etc/clawgate/data/keys");
    expect(keysDir({ keys: { dir: "secrets/keys", trusted: [] } as never }, { configSource: "/etc/clawgate/clawgate.yaml" })).toBe("/etc/clawgate/secrets/keys");
  });
});
