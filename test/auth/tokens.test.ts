import { testKeys, testSigner } from "../helpers/fixtures.ts";
import type { IncomingMessage } from "node:http";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { actorOf, createAuthenticator, requireStaticToken } from "../../src/auth/authenticate.ts";
import { bearerOf, hashSecret, sameSecret } from "../../src/auth/secret.ts";
import { TokenStore } from "../../src/auth/tokens.ts";
import { asClawgateError } from "../../src/errors.ts";
import { connect, deleteKeys, uniquePrefix } from "../helpers/redis.ts";

let redis: Redis;
let prefix: string;
let tokens: TokenStore;
let clock = 1_700_000_000_000;

const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
    return "ok";
  } catch (err) {
    return asClawgateError(err).code;
  }
}

beforeAll(() => {
  redis = connect();
});
afterAll(() => redis.quit());
beforeEach(() => {
  prefix = uniquePrefix("tokens");
  tokens = new TokenStore(redis, prefix, { signer: testSigner, keys: testKeys }, () => clock);
});
afterEach(() => deleteKeys(redis, prefix));

describe("token secrets", () => {
  it("compares secrets by hashing both sides, whatever their lengths", () => {
    expect(sameSecret("abc", "abc")).toBe(true);
    expect(sameSecret("abc", "abd")).toBe(false);
    expect(sameSecret("", "abc")).toBe(false);
    expect(sameSecret("a".repeat(10_000), "abc")).toBe(false);
    expect(hashSecret("cg_x")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reads only well-formed bearer headers", () => {
    expect(bearerOf(req("Bearer abc"))).toBe("abc");
    expect(bearerOf(req("bearer  abc "))).toBe("abc");
    expect(bearerOf(req("Basic abc"))).toBeNull();
    expect(bearerOf(req("Bearer a b"))).toBeNull();
    expect(bearerOf(req("Bearer "))).toBeNull();
    expect(bearerOf(req())).toBeNull();
  });

  it("guards a static-token route only when the token is configured", async () => {
    expect(await codeOf(() => requireStaticToken(req(), undefined, "server.metricsToken"))).toBe("ok");
    expect(await codeOf(() => requireStaticToken(req(), "s3cret-s3cret-s3cret", "server.metricsToken"))).toBe("unauthorized");
    expect(await codeOf(() => requireStaticToken(req("Bearer s3cret"), "s3cret-s3cret-s3cret", "server.metricsToken"))).toBe("unauthorized");
    expect(await codeOf(() => requireStaticToken(req("Bearer s3cret-s3cret-s3cret"), "s3cret-s3cret-s3cret", "server.metricsToken"))).toBe("ok");
  });
});

describe("TokenStore", () => {
  it("validates names and subjects before storing anything", async () => {
    expect(await codeOf(tokens.create({ name: "", kind: "person", subject: "alice" }))).toBe("bad_request");
    expect(await codeOf(tokens.create({ name: "-x", kind: "person", subject: "alice" }))).toBe("bad_request");
    expect(await codeOf(tokens.create({ name: "a".repeat(65), kind: "person", subject: "alice" }))).toBe("bad_request");
    expect(await codeOf(tokens.create({ name: "ok", kind: "person", subject: "api:admin" }))).toBe("bad_request");
    expect(await codeOf(tokens.create({ name: "ok", kind: "person", subject: "admin" }))).toBe("bad_request");
    expect(await codeOf(tokens.create({ name: "ok", kind: "agent" }))).toBe("bad_request");
    expect(await codeOf(tokens.create({ name: "ok", kind: "robot" as "agent", subject: "x" }))).toBe("bad_request");
    expect(await redis.keys(`{${prefix}}:*`)).toEqual([]);
  });

  it("keeps names unique, even when two creates race", async () => {
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => tokens.create({ name: "race", kind: "person", subject: "alice" })));
    const won = results.filter((r) => r.status === "fulfilled");
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === "rejected").map((r) => asClawgateError((r as PromiseRejectedResult).reason).code)).toEqual(Array(7).fill("token_exists"));
    // The losers leave nothing behind: one name, one stored hash.
    expect(await redis.hlen(`{${prefix}}:tokens:byhash`)).toBe(1);
    const secret = (won[0] as PromiseFulfilledResult<{ secret: string }>).value.secret;
    expect((await tokens.lookup(secret))?.name).toBe("race");
  });

  it("looks tokens up by their secret, records the last use, and forgets them on revoke", async () => {
    const { secret, token } = await tokens.create({ name: "alice", kind: "person", subject: "alice" });
    expect(token).toEqual({ name: "alice", kind: "person", subject: "alice", createdAt: clock, lastUsedAt: null });
    clock += 5_000;
    expect(await tokens.lookup(secret)).toEqual({ name: "alice", kind: "person", subject: "alice", createdAt: clock - 5_000, lastUsedAt: clock });
    expect(await tokens.lookup(`${secret}x`)).toBeNull();
    expect((await tokens.list())[0]?.lastUsedAt).toBe(clock);
    await tokens.revoke("alice");
    expect(await tokens.lookup(secret)).toBeNull();
    expect(await codeOf(tokens.revoke("alice"))).toBe("token_not_found");
    expect(await redis.keys(`{${prefix}}:*`)).toEqual([]);
    // A new token under the old name starts unused.
    await tokens.create({ name: "alice", kind: "person", subject: "alice" });
    expect((await tokens.list())[0]?.lastUsedAt).toBeNull();
  });

  it("authenticates the config admin token and stored tokens, and names their actors", async () => {
    const authenticate = createAuthenticator({ tokens, adminToken: "config-admin-token-0123" });
    const admin = await authenticate(req("Bearer config-admin-token-0123"));
    expect(admin).toEqual({ kind: "admin", subject: "admin", name: "server.apiToken" });
    expect(actorOf(admin)).toBe("api:admin");
    const person = await tokens.create({ name: "bob-phone", kind: "person", subject: "bob" });
    expect(actorOf(await authenticate(req(`Bearer ${person.secret}`)))).toBe("api:bob");
    const ops = await tokens.create({ name: "ops", kind: "admin" });
    expect(actorOf(await authenticate(req(`Bearer ${ops.secret}`)))).toBe("api:admin:ops");
    const agent = await tokens.create({ name: "main", kind: "agent", subject: "main" });
    expect(actorOf(await authenticate(req(`Bearer ${agent.secret}`)))).toBe("api:agent:main");
    expect(await codeOf(authenticate(req()))).toBe("unauthorized");
    expect(await codeOf(authenticate(req("Bearer config-admin-token-012")))).toBe("unauthorized");
    // With no config admin token, nothing but stored tokens gets in.
    expect(await codeOf(createAuthenticator({ tokens })(req("Bearer config-admin-token-0123")))).toBe("unauthorized");
  });
});
