import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkTelegram } from "../../bots/telegram/doctor.ts";
import { buildConfig, loadConfig } from "../../src/config/load.ts";
import { identitiesOf, tierRecipients } from "../../src/lifecycle/recipients.ts";
import { startFakeTelegram, type FakeTelegram } from "../fakes/telegram.ts";

const TOKEN = "123456:AAbbCCddEEffGGhhIIjjKKllMMnnOOpp";
/** The block docs/telegram.md shows, as users will write it. */
const YAML = `telegram:
  botToken: "\${TELEGRAM_BOT_TOKEN}"
  chat: "-1001234567890"
  approvers: [111111, "222222"]
`;

function load(text: string) {
  const dir = mkdtempSync(join(tmpdir(), "cg-telegram-"));
  const file = join(dir, "clawgate.yaml");
  writeFileSync(file, text);
  return loadConfig({ path: file, env: { TELEGRAM_BOT_TOKEN: TOKEN } }).config;
}

const base = { botToken: TOKEN, chat: "-1001234567890" };

describe("telegram config", () => {
  it("accepts the documented block: long polling by default, ids written as numbers or strings", () => {
    const c = load(YAML);
    expect(c.telegram).toMatchObject({ botToken: TOKEN, chat: "-1001234567890", approvers: ["111111", "222222"], updates: "polling", apiUrl: "https://api.telegram.org" });
    expect(tierRecipients(c, 0)).toContainEqual({ channel: "telegram", target: "-1001234567890" });
  });

  it("names the key and the fix for a bad token, chat id, approver or a webhook without its secret", () => {
    expect(() => buildConfig({ telegram: { ...base, botToken: "xoxb-nope" } }, {})).toThrow(/telegram.botToken: set the bot token BotFather gave you/);
    expect(() => buildConfig({ telegram: { ...base, chat: "@ops" } }, {})).toThrow(/telegram.chat: use the numeric Telegram chat id/);
    expect(() => buildConfig({ telegram: { ...base, approvers: ["alice"] } }, {})).toThrow(/telegram.approvers\[0\]: use the numeric Telegram user id/);
    expect(() => buildConfig({ telegram: { ...base, updates: "webhook" } }, {})).toThrow(/telegram.webhookSecret: set telegram.webhookSecret with updates: webhook/);
    expect(() => buildConfig({ telegram: { ...base, updates: "webhook", webhookSecret: "short" } }, {})).toThrow(/telegram.webhookSecret: use 16–256 characters/);
  });

  it("takes telegram, telegram:<chat id> and people with a telegram id as escalation targets; only a user's own chat grants a decision", () => {
    const c = buildConfig(
      {
        telegram: base,
        people: { carol: { telegram: "121212", prefer: ["telegram"] } },
        escalation: { tiers: [{ after: "1m", notify: ["telegram", "telegram:-1009999", "telegram:565656", "carol"] }] },
      },
      {},
    );
    const tier = tierRecipients(c, 1);
    expect(tier).toEqual([
      { channel: "telegram", target: "-1001234567890" },
      { channel: "telegram", target: "-1009999" },
      { channel: "telegram", target: "565656" },
      { channel: "telegram", target: "121212", person: "carol", label: "carol" },
    ]);
    expect(identitiesOf(tier).sort()).toEqual(["person:carol", "telegram:121212", "telegram:565656"]);
    expect(() => buildConfig({ escalation: { tiers: [{ after: "1m", notify: ["telegram"] }] } }, {})).toThrow(/no telegram block is configured/);
    expect(() => buildConfig({ telegram: base, escalation: { tiers: [{ after: "1m", notify: ["telegram:@ops"] }] } }, {})).toThrow(/expected a numeric Telegram chat id/);
  });
});

describe("telegram doctor", () => {
  let tg: FakeTelegram;
  beforeEach(async () => {
    tg = await startFakeTelegram();
  });
  afterEach(() => tg.close());

  it("says the token works and where updates go; a refused token fails with the fix", async () => {
    const cfg = buildConfig({ telegram: { ...base, botToken: tg.token, apiUrl: tg.apiUrl } }, {}).telegram!;
    expect(await checkTelegram(cfg)).toEqual([
      { name: "telegram", status: "ok", detail: "bot token accepted (@clawgate_test_bot)" },
      { name: "telegram updates", status: "ok", detail: "long polling (no webhook set)" },
    ]);
    tg.webhook = { url: "https://example.com/telegram/webhook" };
    expect((await checkTelegram(cfg))[1]).toMatchObject({ status: "warn", detail: expect.stringContaining("serve deletes it when it starts polling") });
    const wrong = buildConfig({ telegram: { ...base, apiUrl: tg.apiUrl } }, {}).telegram!;
    expect(await checkTelegram(wrong)).toEqual([{ name: "telegram", status: "fail", detail: "getMe → 401 Unauthorized", fix: "check telegram.botToken (BotFather → /mybots → API Token)" }]);
  });
});
