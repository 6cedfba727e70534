import { describe, expect, it } from "vitest";
import { REDACTED, redact, redactString } from "../../src/approvals/redact.ts";

describe("redaction", () => {
  it.each([
    ["curl -H 'Authorization: Bearer abcdef0123456789' https://x", "abcdef0123456789"],
    ["export SLACK=xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"],
    ["git clone https://user:s3cr3tpass@github.com/x/y", "s3cr3tpass"],
    ["mysql --password=hunter22 -u root", "hunter22"],
    ["API_KEY=zzzyyyxxx123 ./run", "zzzyyyxxx123"],
    ["aws configure set aws_access_key_id AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"],
    ["token ghp_abcdefghijklmnopqrstuvwxyz0123", "ghp_abcdefghijklmnopqrstuvwxyz0123"],
    ["key: sk-ant-abcdefghijklmnop1234", "sk-ant-abcdefghijklmnop1234"],
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"],
  ])("removes the secret from %j", (input, secret) => {
    const out = redactString(input);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it("leaves ordinary commands alone", () => {
    for (const s of ["git push origin main", "ls -la /tmp", "kubectl get pods -n prod", "echo tokenizer"]) expect(redactString(s)).toBe(s);
  });

  it("blanks values under secret-named keys at any depth, without mutating the input", () => {
    const input = { env: { DB_PASSWORD: "pw", nested: [{ apiKey: "k", name: "n" }] }, authorization: "Basic x", command: "ls" };
    const out = redact(input);
    expect(out).toEqual({ env: { DB_PASSWORD: REDACTED, nested: [{ apiKey: REDACTED, name: "n" }] }, authorization: REDACTED, command: "ls" });
    expect(input.env.DB_PASSWORD).toBe("pw");
  });

  it("survives cycles and very deep objects", () => {
    const a: Record<string, unknown> = { name: "a" };
    a.self = a;
    expect(redact(a)).toEqual({ name: "a", self: "[…]" });
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100; i++) deep = (deep.next = {}) as Record<string, unknown>;
    expect(() => redact(root)).not.toThrow();
  });

  it("stays linear on long inputs", () => {
    const started = performance.now();
    redactString("x".repeat(200_000));
    redactString("token".repeat(40_000));
    // A generous bound that only an O(n²) pattern would exceed.
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
