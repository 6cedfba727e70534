import { z } from "zod";

/** A public key whose signatures are honoured, with its use and the end of its overlap. */
const trustedKeySchema = z.union([
  z.string(),
  z.strictObject({
    key: z.string().describe('"ed25519:<base64url>", as `clawgate keys create` prints'),
    use: z.enum(["decision", "chat"]).default("decision").describe("decision: serve's key (any channel, rules, tokens); chat: a gateway's key, honoured only for /clawgate decisions made in OpenClaw chat"),
    until: z.string().optional().describe("ISO time after which this key's signatures are no longer honoured (the end of a rotation's overlap)"),
  }),
]);

/** The `keys:` config block (merged into the one config schema, src/config/schema.ts). */
export const keysSchema = z
  .strictObject({
    dir: z.string().default("").describe("folder of the key files `clawgate keys create|rotate` write; empty = data/keys next to the config file"),
    signing: z
      .string()
      .optional()
      .describe("serve only: its Ed25519 decision key, a PEM file path or the PEM text (e.g. \"${CLAWGATE_DECISION_KEY}\"); unset = the newest active decision key in keys.dir"),
    gateway: z
      .string()
      .optional()
      .describe("a gateway only: its Ed25519 key for /clawgate decisions made in OpenClaw chat, a PEM file path or the PEM text; unset = the newest chat key in keys.dir"),
    trusted: z
      .array(trustedKeySchema)
      .default([])
      .describe("public keys whose signatures may release a call or loosen the gate (\"ed25519:…\" or { key, use, until }); empty = the *.pub files in keys.dir"),
  })
  .default({ dir: "", trusted: [] });

/** The parsed `keys:` block: what the keyring and each process's trust read. */
export type KeysConfig = z.output<typeof keysSchema>;
