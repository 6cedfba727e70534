import { describe, expect, it } from "vitest";
import { containsSecret, REDACTED, redact, redactString, redactText } from "../../src/redact/redact.ts";

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
    ["git push https://bob:ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/x.git", "ghp_abcdefghijklmnopqrstuvwxyz0123"],
    ["git push https://bob:hunter2hunter2@github.com/x.git", "hunter2hunter2"],
    ["git clone https://x0123456789abcdefghijklmnop@github.com/x.git", "x0123456789abcdefghijklmnop"],
    ["git clone https://oauth2:glpat-abcdefghijklmnopqrstu@gitlab.com/x/y.git", "glpat-abcdefghijklmnopqrstu"],
    ["redis-cli -u redis://:s3cretpass@10.0.0.5:6379", "s3cretpass"],
    ["curl -u bob:pa55word https://api.example.com", "pa55word"],
    ["curl --user=bob:pa55word https://api.example.com", "pa55word"],
    ["curl 'https://s3.example.com/x?X-Amz-Signature=abcdef0123&X-Amz-Credential=AKIDX'", "abcdef0123"],
    ["curl https://api.example.com/v1?access_token=tok3n5ecret", "tok3n5ecret"],
    ["mysqladmin --password s3cr3tpw status", "s3cr3tpw"],
    ["npm config set //registry.npmjs.org/:_authToken npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm_abcdefghijklmnopqrstuvwxyz0123456789"],
    ["curl https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX", "XXXXXXXXXXXXXXXX"],
    ["stripe login --api-key sk_live_abcdefghijklmnop1234", "sk_live_abcdefghijklmnop1234"],
    // Each token format alone, with no secret-sounding word nearby (the prefilters must see them too).
    ["x xapp-1-A0123456789-abc", "xapp-1-A0123456789-abc"],
    ["x github_pat_11ABCDEFG0123456789_abcdefghijkl", "github_pat_11ABCDEFG0123456789_abcdefghijkl"],
    ["x glptt-abcdefghijklmnopqrstu", "glptt-abcdefghijklmnopqrstu"],
    ["x gho_abcdefghijklmnopqrstuvwxyz0123", "gho_abcdefghijklmnopqrstuvwxyz0123"],
    ["x rk_test_abcdefghijklmnop1234", "rk_test_abcdefghijklmnop1234"],
    ["x whsec_abcdefghijklmnop1234", "whsec_abcdefghijklmnop1234"],
    ["x hf_abcdefghijklmnopqrstuvwxyz012345", "hf_abcdefghijklmnopqrstuvwxyz012345"],
    ["x ya29.a0AfH6SMBabcdefghijklmnop", "ya29.a0AfH6SMBabcdefghijklmnop"],
    ["x SG.abcdefghijklmnop12.abcdefghijklmnop12", "SG.abcdefghijklmnop12.abcdefghijklmnop12"],
    ["x AIzaSyA1234567890abcdefghijklmnopqrs", "AIzaSyA1234567890abcdefghijklmnopqrs"],
    ["x eyJhbGciOiJI.eyJzdWIiOiIx.SflKxwRJSMeKKF2QT4", "eyJhbGciOiJI.eyJzdWIiOiIx.SflKxwRJSMeKKF2QT4"],
    ["x MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz01234", "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz01234"],
    ["x https://discord.com/api/webhooks/123456/abcdefghijklmnop", "abcdefghijklmnop"],
    ["x Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="],
    ["x https://x.example.com/file?sig=abcdef0123456", "abcdef0123456"],
    ["x sk-abcdefghijklmnop1234", "sk-abcdefghijklmnop1234"],
    ["echo AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"],
    ["curl -ubob:pa55word https://x", "pa55word"],
    ["curl --proxy-user 'bob:pa55word' https://x", "pa55word"],
    ["x https://ghp0123456789abcdefghij@github.com/x", "ghp0123456789abcdefghij"],
  ])("removes the secret from %j", (input, secret) => {
    const out = redactString(input);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it("leaves ordinary commands and prose alone", () => {
    for (const s of [
      "git push origin main",
      "ls -la /tmp",
      "kubectl get pods -n prod",
      "echo tokenizer",
      "git clone https://github.com/x/y.git",
      "ssh git@github.com",
      "git commit --author=bob -m 'fix'",
      'allowed: mode "bypassPermissions" passes although rule "exec(git push *)" asks',
      "the token expired, the password was wrong",
      "curl -u bob https://x",
    ]) {
      expect(redactString(s)).toBe(s);
      expect(containsSecret(s)).toBe(false);
    }
  });

  it("redactText is the same pass, for every outgoing string", () => {
    const s = "git push https://bob:ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/x.git";
    expect(redactText(s)).toBe(redactString(s));
    expect(redactText(s)).toBe(`git push https://bob:${REDACTED}@github.com/x.git`);
    expect(containsSecret(s)).toBe(true);
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
