import { ConfigInvalidError } from "../errors.ts";
import type { KeysConfig } from "./schema.ts";
import { createKeyFiles, keyringFor, ReloadingSigner, keysDir, listKeyFiles, loadSigner, type KeyContext, type Keyring } from "./keyring.ts";
import type { Signer } from "./signature.ts";

/** What one process trusts and signs with. */
export interface Trust {
  keys: Keyring;
  /** serve: its decision key; a gateway: its chat key (if it has one); the CLI: none. */
  signer: Signer | null;
}

/**
 * A gate: honours the public keys of its config (and its own chat key), signs only its own
 * `/clawgate` chat decisions, and never loads a decision key.
 */
export function gateTrust(config: { keys: KeysConfig }, ctx: KeyContext): Trust {
  const signer = loadSigner(config, ctx, "chat");
  return { keys: keyringFor(config, ctx, signer ? [signer] : []), signer };
}

/** The CLI: verifies (e.g. `request --wait`), signs nothing — it decides through serve's API. */
export function cliTrust(config: { keys: KeysConfig }, ctx: KeyContext): Trust {
  return { keys: keyringFor(config, ctx), signer: null };
}

/**
 * serve: signs with its decision key and honours the configured keys plus its own. With no
 * decision key anywhere, it makes one in the keys folder (as `npm start` makes its Redis) and
 * says so once, with the public key gates on other hosts must list in `keys.trusted`; a chat key
 * is made beside it for gateways that read the same folder.
 */
export function serveTrust(config: { keys: KeysConfig }, ctx: KeyContext, log: { info(o: object, msg: string): void; warn(o: object, msg: string): void }): Trust {
  let signer = loadSigner(config, ctx, "decision");
  if (!signer) {
    const dir = keysDir(config, ctx);
    const made = createKeyFiles(dir, "decision");
    log.warn(
      { keyId: made.id, publicKey: made.publicKey, file: made.keyPath },
      `no decision key was configured, so serve made one in ${dir}: gates that read this folder trust it already; on other hosts add keys.trusted: ["${made.publicKey}"] to their config`,
    );
    if (!config.keys.gateway && !listKeyFiles(dir).some((f) => f.meta.use === "chat")) {
      const chat = createKeyFiles(dir, "chat");
      log.info({ keyId: chat.id, file: chat.keyPath }, "made a chat key for /clawgate decisions in OpenClaw chat (used by gateways that read this keys folder)");
    }
    signer = loadSigner(config, ctx, "decision");
    if (!signer) throw new ConfigInvalidError(`serve could not load the decision key it made in ${dir}`);
  }
  const reloading = new ReloadingSigner(() => loadSigner(config, ctx, "decision"), signer);
  // Every key serve may sign with is one it trusts: the keys folder is read again on an unknown id.
  return { keys: keyringFor(config, ctx, [signer]), signer: reloading };
}
