import { describe, expect, it } from "vitest";
import { readReply } from "../../bots/email/reply.ts";

const QUOTE = "\n\nOn Tue, Dec 1, 2026 at 10:00 AM clawgate <approvals@example.test> wrote:\n> approve\n";
const CAUTION =
  "CAUTION: This email originated from outside of the organization. Do not click links or open attachments unless you recognize the sender and know the content is safe.";

describe("a gateway's banner above the answer is read past", () => {
  it.each([
    ["[EXTERNAL]\n\napprove", { decision: "allow-once" }],
    ["[External Email]\napprove always", { decision: "allow-always" }],
    ["*** EXTERNAL EMAIL ***\n\ndeny not now", { decision: "deny", reason: "not now" }],
    [`${CAUTION}\n\napprove`, { decision: "allow-once" }],
    ["CAUTION: This email originated from outside of the organization. Do not click\nlinks or open attachments unless you recognize the sender and know the content\nis safe.\ndeny wait for the\nchange board", { decision: "deny", reason: "wait for the change board" }],
    ["This message came from an external sender.\n\napprove", { decision: "allow-once" }],
    ["You don't often get email from alice@corp.test. Learn why this is important<https://aka.ms/LearnAboutSenderIdentification>\n\napprove", { decision: "allow-once" }],
    ["[EXT] approve", { decision: "allow-once" }],
    ["[EXTERNAL]deny not from this laptop", { decision: "deny", reason: "not from this laptop" }],
    ["EXTERNAL SENDER: Be cautious with links and attachments.\n\ndeny phishing drill", { decision: "deny", reason: "phishing drill" }],
    ["WARNING: This email was sent from outside your organization. Please use caution when opening attachments or clicking links.\n\nApprove.", { decision: "allow-once" }],
    ["Achtung: Diese Nachricht wurde von außerhalb der Organisation gesendet.\n\napprove", { decision: "allow-once" }],
    ["Attention : cet e-mail provient d'un expéditeur externe. Ne cliquez pas sur les liens.\n\ndeny non merci", { decision: "deny", reason: "non merci" }],
    ["[EXTERNO]\nEste mensaje proviene de un remitente externo.\n\napprove", { decision: "allow-once" }],
    ["ATTENZIONE: Questa email proviene dall'esterno dell'organizzazione. Non aprire allegati o collegamenti se non conosci il mittente.\n\napprove", { decision: "allow-once" }],
    ["LET OP: Deze e-mail is afkomstig van buiten de organisatie.\n\napprove", { decision: "allow-once" }],
    ["ATENÇÃO: Este e-mail foi enviado de fora da organização.\n\napprove", { decision: "allow-once" }],
    ["\u00a0[EXTERNAL]\u00a0\n\u200b\napprove", { decision: "allow-once" }],
    ["==========\nCAUTION: External email\n==========\napprove", { decision: "allow-once" }],
    [`You don't often get email from alice@corp.test. Learn why this is important\n\n${CAUTION}\n\n\napprove always`, { decision: "allow-always" }],
    ["ZjQcmQRYFpfptBannerStart\nThis Message Is From an External Sender\nThis message came from outside your organization.\nReport Suspicious [https://report.example/x]\n\nZjQcmQRYFpfptBannerEnd\ndeny wrong account", { decision: "deny", reason: "wrong account" }],
  ])("%j", (text, want) => expect(readReply(text + QUOTE)).toEqual(want));
});

describe("the approver's own words are never taken for a banner", () => {
  it.each([
    // Still strict: after the banner, the first line must be exactly an answer.
    `[EXTERNAL]\n${CAUTION}\n\nApprove? No way.\n\napprove`,
    "[EXTERNAL] Approve? No way.",
    // A block that mentions deciding is the approver's, however banner-like the rest of it is.
    `${CAUTION}\nDon't approve this one.\n\napprove`,
    "This email is from an external sender that is not on the approved list.\n\napprove",
    // A provenance statement with a negation is a person talking.
    "This came from outside the company, please don't.\n\napprove",
    // Mentions outside things, but says nothing about where the mail came from.
    "External contractor request, not sure.\n\napprove",
    "[EXTERNAL]\nNot sure about this, who asked for it?\n\napprove",
    // A word of the approver's inside or right under the banner is read, not skipped.
    "No. Do not open attachments.\n\napprove",
    "CAUTION: external sender.\nno\n\napprove",
    "External email. approve",
    "[EXTERNAL] [EXTERNAL] approve",
    // Wording nothing recognises fails safe: nothing is decided.
    "Sicherheitsstufe: intern\n\napprove",
    "Learn why this is important\n\nApprove it",
    // Only a banner: the quoted request's "approve" lines are no answer.
    CAUTION,
  ])("%j decides nothing", (text) => expect(readReply(text + QUOTE)).toHaveProperty("error"));

  it("a banner above a deny without a reason still needs the reason", () => {
    expect(readReply(`[EXTERNAL]\n\ndeny${QUOTE}`)).toEqual({ error: expect.stringMatching(/needs a reason/) });
  });
});
