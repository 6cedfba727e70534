import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../src/audit/canonicalJson.ts";
import { AUDIT_LIMITS, capEvent, truncateUtf8 } from "../../src/audit/limits.ts";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

describe("truncateUtf8", () => {
  it("leaves short text alone", () => {
    expect(truncateUtf8("hello", 10)).toBe("hello");
  });

  it("cuts to the byte cap with a marker naming the original size", () => {
    const out = truncateUtf8("x".repeat(5000), 2048);
    expect(bytes(out)).toBeLessThanOrEqual(2048);
    expect(out).toMatch(/^x+…\[truncated 5000 bytes\]$/);
  });

  it("never splits a multi-byte character", () => {
    for (let cap = 30; cap < 45; cap++) {
      const out = truncateUtf8("€😀".repeat(40), cap);
      expect(bytes(out)).toBeLessThanOrEqual(cap);
      expect(out).not.toContain("\ufffd");
    }
  });
});

describe("capEvent", () => {
  it("caps reason, short fields and details", () => {
    const capped = capEvent({
      type: "refusal",
      reason: "r".repeat(10_000),
      actor: "a".repeat(2000),
      details: { blob: "q\"".repeat(10_000), n: 1 },
    });
    expect(bytes(capped.reason ?? "")).toBeLessThanOrEqual(AUDIT_LIMITS.reason);
    expect(capped.reason).toContain("[truncated 10000 bytes]");
    expect(bytes(capped.actor ?? "")).toBeLessThanOrEqual(AUDIT_LIMITS.field);
    expect(bytes(canonicalJson(capped.details))).toBeLessThanOrEqual(AUDIT_LIMITS.details);
    expect(capped.details).toMatchObject({ _truncated: true, _originalBytes: bytes(canonicalJson({ blob: "q\"".repeat(10_000), n: 1 })) });
  });

  it("does not mutate the caller's event", () => {
    const event = { type: "decision" as const, reason: "r".repeat(3000) };
    capEvent(event);
    expect(event.reason).toHaveLength(3000);
  });
});
