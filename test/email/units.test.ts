import { describe, expect, it } from "vitest";
import { firstMeaningfulLine, parseReplyVerb, readReply } from "../../bots/email/reply.ts";
import { parseToken, ReplyTokens } from "../../bots/email/token.ts";
import { tokenFrom } from "../../bots/email/address.ts";
import { identitiesOf, tierRecipients } from "../../src/lifecycle/recipients.ts";
import { testConfig } from "../helpers/fixtures.ts";

const email = { from: "clawgate <approvals@example.test>", replyDomain: "example.test", smtp: { host: "127.0.0.1", port: 2525 }, approvers: ["Alice@corp.test", "bob@corp.test"] };

describe("reply tokens", () => {
  const tokens = new ReplyTokens(Buffer.alloc(32, 7));
  const t = tokens.issue("ap_0123456789ab", "alice@corp.test", 1_000);

  it("are bound to the approval, the recipient and the deadline, and survive a change of case", () => {
    expect(t).toMatch(/^0123456789ab-[0-9a-z]{26}$/);
    const p = parseToken(t.toUpperCase());
    expect(p).toEqual({ approvalId: "ap_0123456789ab", sig: expect.any(String) });
    expect(tokens.valid(p!, "ALICE@corp.test", 1_000)).toBe(true);
    expect(tokens.valid(p!, "bob@corp.test", 1_000)).toBe(false);
    expect(tokens.valid(p!, "alice@corp.test", 2_000)).toBe(false);
    expect(tokens.valid({ ...p!, approvalId: "ap_0123456789ac" }, "alice@corp.test", 1_000)).toBe(false);
    expect(new ReplyTokens(Buffer.alloc(32, 8)).valid(p!, "alice@corp.test", 1_000)).toBe(false);
  });

  it("reject anything not of their shape", () => {
    for (const bad of ["", "0123456789ab", "0123456789ab-short", `${t}x`, "../etc-passwd"]) expect(parseToken(bad)).toBeNull();
  });

  it("are found in the recipient addresses", () => {
    expect(tokenFrom(["Someone <x@y.test>", `Approvals <APPROVALS+${t}@Example.test>`], "approvals", "example.test")).toBe(t);
    expect(tokenFrom([`approvals+${t}@other.test`], "approvals", "example.test")).toBeNull();
  });
});

describe("reading a reply", () => {
  it.each([
    ["approve", { decision: "allow-once" }],
    ["Approve.", { decision: "allow-once" }],
    ["APPROVE ALWAYS", { decision: "allow-always" }],
    ["deny not during the freeze", { decision: "deny", reason: "not during the freeze" }],
    ["Deny: no", { decision: "deny", reason: "no" }],
  ])("%s", (line, want) => expect(parseReplyVerb(line)).toEqual(want));

  it.each(["deny", "approved?", "yes", "", "disapprove"])("%j is not an answer", (line) => expect(parseReplyVerb(line)).toHaveProperty("error"));

  it.each([
    ["  approve  ", "allow-once"],
    ["approve!", "allow-once"],
    ["Approve,", "allow-once"],
    ["approve  always.", "allow-always"],
    ["\u00a0Approve Always!\u00a0", "allow-always"],
  ])("the whole line %j is an answer (case, spaces and a trailing . ! , do not matter)", (line, decision) => expect(parseReplyVerb(line)).toEqual({ decision }));

  it.each([
    "Approve? No way.",
    "approve - wait no",
    "approved",
    "yes",
    "approve always please",
    "deny",
    "Deny.",
    "Don't approve",
    "approve approve",
    "approve it",
    "approve; deny later",
    "ok approve",
    "approve:",
    "approvE always, but not really",
    "deny:",
  ])("%j decides nothing and says the three forms", (line) => {
    const verb = parseReplyVerb(line);
    expect(verb).not.toHaveProperty("decision");
    expect(JSON.stringify(verb)).toMatch(/approve|deny <reason>|denial needs a reason/);
  });

  it("a denial's reason runs on to the end of its paragraph; an approval is its line alone", () => {
    expect(readReply("deny not during the freeze, which\nends on Friday\n\nthanks, Alice")).toEqual({ decision: "deny", reason: "not during the freeze, which ends on Friday" });
    expect(readReply("\n\n  deny too risky\r\n> approve\r\n")).toEqual({ decision: "deny", reason: "too risky" });
    expect(readReply("approve\nlooks fine")).toEqual({ decision: "allow-once" });
    expect(readReply("deny\nno reason on its line")).toHaveProperty("error");
    expect(readReply("Approve? No way.\napprove")).toHaveProperty("error");
  });

  it("takes the first line of the reply's own text, not quotes or signatures", () => {
    expect(firstMeaningfulLine("\n\ndeny nope\n\nOn Tue, 1 Dec 2026, clawgate <a@b.test> wrote:\n> approve\n")).toBe("deny nope");
    expect(firstMeaningfulLine("> approve\n\ndeny quoted first")).toBe("deny quoted first");
    expect(firstMeaningfulLine("\r\napprove\r\n-- \r\nAlice")).toBe("approve");
  });
});

describe("email recipients", () => {
  it("tier 0 is one recipient per approver; email targets validate and grant their owner the right to decide", () => {
    const config = testConfig("t", {
      log: { enabled: false },
      email,
      people: { carol: { email: "Carol@corp.test" } },
      escalation: { tiers: [{ after: "1m", notify: ["email:dave@corp.test", "carol", "email"] }] },
    });
    expect(tierRecipients(config, 0)).toEqual([
      { channel: "email", target: "alice@corp.test" },
      { channel: "email", target: "bob@corp.test" },
    ]);
    const tier1 = tierRecipients(config, 1);
    expect(tier1.map((r) => r.target)).toEqual(["dave@corp.test", "carol@corp.test", "alice@corp.test", "bob@corp.test"]);
    expect(identitiesOf(tier1)).toEqual(expect.arrayContaining(["email:dave@corp.test", "person:carol", "email:carol@corp.test"]));
  });

  it("config errors name the key: bad addresses; an email target without an email block is skipped, not fatal", () => {
    // The on-call issue's example names email:eng-leads@… with only a Slack block: it loads, the
    // target is skipped at run time with a warning, and `clawgate doctor` says so.
    const skipped = testConfig("t", { escalation: { tiers: [{ after: "1m", notify: ["email:a@b.test"] }] } });
    expect(tierRecipients(skipped, 1)).toEqual([]);
    expect(() => testConfig("t", { email, escalation: { tiers: [{ after: "1m", notify: ["email:nobody"] }] } })).toThrow(/escalation.tiers\[0\].notify\[0\]: "email:nobody": expected an email address after "email:"/);
    expect(() => testConfig("t", { email: { ...email, approvers: ["Alice <a@b.test>"] } })).toThrow(/email.approvers\[0\]: write an approver as a bare address/);
  });
});
