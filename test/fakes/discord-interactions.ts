import { generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { FAKE_APP_ID, FAKE_CHANNEL_ID, FAKE_GUILD_ID, snowflake, type FakeDiscordMessage } from "./discord.ts";

/**
 * Discord's side of interactions: an application key pair (Ed25519, as Discord signs), and
 * interaction payloads shaped as Discord sends them (API v10).
 */
export interface AppKeys {
  privateKey: KeyObject;
  /** 64 hex characters, as the Developer Portal shows the application's public key. */
  publicKeyHex: string;
}

export function appKeys(): AppKeys {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const der = publicKey.export({ format: "der", type: "spki" });
  return { privateKey, publicKeyHex: der.subarray(der.length - 32).toString("hex") };
}

/** X-Signature-Ed25519 / X-Signature-Timestamp for `body`, signed at `tsSeconds`. */
export function signInteraction(keys: AppKeys, body: string, tsSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const timestamp = String(tsSeconds);
  const signature = sign(null, Buffer.from(timestamp + body), keys.privateKey).toString("hex");
  return { "content-type": "application/json", "x-signature-ed25519": signature, "x-signature-timestamp": timestamp };
}

export interface Actor {
  userId: string;
  roles?: string[];
  /** In a DM there is no member, only a user. */
  dm?: boolean;
}

function base(type: number, who: Actor, extra: Record<string, unknown>): Record<string, unknown> {
  const user = { id: who.userId, username: `user${who.userId.slice(-4)}`, discriminator: "0", global_name: null, avatar: null };
  return {
    id: snowflake(),
    application_id: FAKE_APP_ID,
    type,
    token: `itok_${randomBytes(24).toString("hex")}`,
    version: 1,
    app_permissions: "0",
    locale: "en-US",
    entitlements: [],
    authorizing_integration_owners: {},
    ...(who.dm
      ? { user, channel_id: "1", context: 1 }
      : { guild_id: FAKE_GUILD_ID, channel_id: FAKE_CHANNEL_ID, guild_locale: "en-US", context: 0, member: { user, roles: who.roles ?? [], permissions: "0", joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0 } }),
    ...extra,
  };
}

export function ping(): Record<string, unknown> {
  return { id: snowflake(), application_id: FAKE_APP_ID, type: 1, token: `itok_${randomBytes(8).toString("hex")}`, version: 1 };
}

/** A button click on `message` (type 3, component_type 2). */
export function buttonClick(message: FakeDiscordMessage, customId: string, who: Actor): Record<string, unknown> {
  return base(3, who, { message, data: { custom_id: customId, component_type: 2 } });
}

/** The deny form submitted (type 5) with `reason` in its text input. */
export function modalSubmit(customId: string, inputId: string, value: string, who: Actor): Record<string, unknown> {
  return base(5, who, { data: { custom_id: customId, components: [{ type: 1, components: [{ type: 4, custom_id: inputId, value }] }] } });
}

/** `/clawgate <sub> [options]` (type 2, a chat-input command with a subcommand). */
export function slashCommand(sub: string, options: Record<string, string | boolean>, who: Actor): Record<string, unknown> {
  const opts = Object.entries(options).map(([name, value]) => ({ name, type: typeof value === "boolean" ? 5 : 3, value }));
  return base(2, who, { data: { id: snowflake(), name: "clawgate", type: 1, guild_id: FAKE_GUILD_ID, options: [{ name: sub, type: 1, options: opts }] } });
}

/** Autocomplete while typing `id` of `/clawgate <sub>` (type 4). */
export function autocomplete(sub: string, typed: string, who: Actor): Record<string, unknown> {
  return base(4, who, { data: { id: snowflake(), name: "clawgate", type: 1, options: [{ name: sub, type: 1, options: [{ name: "id", type: 3, value: typed, focused: true }] }] } });
}

/** POSTs a signed interaction to `url` (clawgate's /discord/interactions). */
export async function postInteraction(
  url: string,
  keys: AppKeys,
  interaction: Record<string, unknown>,
  opts: { ts?: number; tamper?: boolean; signWith?: AppKeys } = {},
): Promise<Response> {
  let body = JSON.stringify(interaction);
  const headers = signInteraction(opts.signWith ?? keys, body, opts.ts);
  if (opts.tamper) body = body.replace(/"custom_id":"clawgate:deny/, '"custom_id":"clawgate:approve');
  return fetch(url, { method: "POST", headers, body });
}
