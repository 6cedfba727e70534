import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConfig, loadConfig } from "../../src/config/load.ts";
import { tierRecipients, identitiesOf } from "../../src/lifecycle/recipients.ts";

const KEY = "a".repeat(64);
/** The block from the issue, as users will write it. */
const YAML = `discord:
  botToken: "\${DISCORD_BOT_TOKEN}"
  applicationId: "111111111111111111"
  publicKey: "\${DISCORD_PUBLIC_KEY}"
  guildId: "222222222222222222"
  channel: "333333333333333333"
  approvers: { users: ["444444444444444444"], roles: [] }
`;

function load(text: string) {
  const dir = mkdtempSync(join(tmpdir(), "cg-discord-"));
  const file = join(dir, "clawgate.yaml");
  writeFileSync(file, text);
  return loadConfig({ path: file, env: { DISCORD_BOT_TOKEN: "bot-token", DISCORD_PUBLIC_KEY: KEY } }).config;
}

describe("discord config", () => {
  it("accepts the documented block: gateway interactions by default", () => {
    const c = load(YAML);
    expect(c.discord).toMatchObject({ botToken: "bot-token", publicKey: KEY, applicationId: "111111111111111111", guildId: "222222222222222222", channel: "333333333333333333", interactions: "gateway" });
    expect(c.discord?.approvers).toEqual({ users: ["444444444444444444"], roles: [] });
    expect(tierRecipients(c, 0)).toContainEqual({ channel: "discord", target: "333333333333333333" });
  });

  it("accepts the same block with HTTP interactions and an API base override", () => {
    const c = load(`${YAML}  interactions: http\n  apiUrl: "http://127.0.0.1:4567/api"\n`);
    expect(c.discord).toMatchObject({ interactions: "http", apiUrl: "http://127.0.0.1:4567/api" });
  });

  it("names the key and the fix for a bad public key, id or mode", () => {
    const base = { botToken: "t", applicationId: "111111111111111111", publicKey: KEY, guildId: "222222222222222222", channel: "333333333333333333" };
    expect(() => buildConfig({ discord: { ...base, publicKey: "nothex" } }, {})).toThrow(/discord.publicKey: .*64 hex characters/);
    expect(() => buildConfig({ discord: { ...base, channel: "#approvals" } }, {})).toThrow(/discord.channel: use the numeric Discord channel id/);
    expect(() => buildConfig({ discord: { ...base, interactions: "webhook" } }, {})).toThrow(/discord.interactions/);
    expect(() => buildConfig({ discord: { ...base, approvers: { users: ["alice"] } } }, {})).toThrow(/discord.approvers.users.0/);
  });

  it("takes discord, discord:<id> and people with a discord id as escalation targets", () => {
    const c = buildConfig(
      {
        discord: { botToken: "t", applicationId: "111111111111111111", publicKey: KEY, guildId: "222222222222222222", channel: "333333333333333333" },
        people: { carol: { discord: "121212121212121212" } },
        escalation: { tiers: [{ after: "1m", notify: ["discord", "discord:565656565656565656", "carol"] }] },
      },
      {},
    );
    const tier = tierRecipients(c, 1);
    expect(tier).toEqual([
      { channel: "discord", target: "333333333333333333" },
      { channel: "discord", target: "565656565656565656" },
      { channel: "discord", target: "121212121212121212", person: "carol", label: "carol" },
    ]);
    expect(identitiesOf(tier)).toContain("discord:121212121212121212");
    expect(() => buildConfig({ escalation: { tiers: [{ after: "1m", notify: ["discord"] }] } }, {})).toThrow(/no discord block is configured/);
    expect(() => buildConfig({ discord: { botToken: "t", applicationId: "111111111111111111", publicKey: KEY, guildId: "222222222222222222", channel: "333333333333333333" }, escalation: { tiers: [{ after: "1m", notify: ["discord:general"] }] } }, {})).toThrow(/expected a numeric Discord channel id or user id after "discord:"/);
  });
});
