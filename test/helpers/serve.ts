import { serve, type RunningService } from "../../src/server/serve.ts";
import { loadConfig } from "../../src/config/load.ts";
import { TokenStore, type TokenKind } from "../../src/auth/tokens.ts";
import { connect, REDIS_URL } from "./redis.ts";
import { silentLog, TEST_KEYS, testKeys, testSigner } from "./fixtures.ts";

/**
 * A real `clawgate serve` in this process (HTTP on a free port), for CLI tests: the CLI's
 * deciding commands act through its API. It signs with the test decision key, which every
 * config the tests write trusts (TEST_KEYS_YAML).
 */
export interface TestServe {
  url: string;
  svc: RunningService;
  /** A token of `kind` for `subject`, made as serve makes them (signed). */
  token(name: string, kind: TokenKind, subject?: string): Promise<string>;
  /** CLAWGATE_URL + CLAWGATE_TOKEN for the CLI, acting as the person `subject`. */
  envAs(subject: string, kind?: TokenKind): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** The `keys:` line for config files written by tests: trusts the test keys, reads no keys folder. */
export const TEST_KEYS_YAML = `keys: { trusted: ["${TEST_KEYS.decisionPublic}", { key: "${TEST_KEYS.chatPublic}", use: chat }] }`;

export async function startTestServe(configPath: string): Promise<TestServe> {
  const { config } = loadConfig({ path: configPath, env: { ...process.env, REDIS_URL }, overrides: { server: { port: 0 }, log: { enabled: false } } });
  const svc = await serve({ config, redisUrl: REDIS_URL, log: silentLog, trust: { keys: testKeys, signer: testSigner } });
  const redis = connect();
  const tokens = new TokenStore(redis, config.redis.prefix, { signer: testSigner, keys: testKeys });
  let n = 0;
  const token = async (name: string, kind: TokenKind, subject?: string) => (await tokens.create({ name, kind, ...(subject ? { subject } : {}) })).secret;
  return {
    url: svc.url,
    svc,
    token,
    async envAs(subject, kind = "person") {
      const secret = await token(`${subject}-${++n}`, kind, kind === "admin" ? undefined : subject);
      return { CLAWGATE_URL: svc.url, CLAWGATE_TOKEN: secret };
    },
    async close() {
      await svc.close();
      await redis.quit();
    },
  };
}
