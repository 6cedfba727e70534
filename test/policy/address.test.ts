import { describe, expect, it } from "vitest";
import { isLoopbackHost, LocalHosts, normaliseHost, parseInetAton } from "../../src/policy/self-protection/address.ts";
import { Endpoints } from "../../src/policy/self-protection/endpoints.ts";

describe("parseInetAton: every form inet_aton(3) accepts", () => {
  it.each<[string, number | null]>([
    ["127.0.0.1", 0x7f000001],
    ["127.1", 0x7f000001],
    ["127.0.1", 0x7f000001],
    ["0x7f.1", 0x7f000001],
    ["0X7F.0.0.1", 0x7f000001],
    ["0177.1", 0x7f000001],
    ["0177.0.0.01", 0x7f000001],
    ["2130706433", 0x7f000001],
    ["0x7f000001", 0x7f000001],
    ["017700000001", 0x7f000001],
    ["127.0.0x1", 0x7f000001],
    ["0", 0],
    ["0x", 0],
    ["10.65535", 0x0a00ffff],
    ["255.255.255.255", 0xffffffff],
    ["256.0.0.1", null],
    ["127.0.0.256", null],
    ["127.65536", 0x7f010000],
    ["127.16777216", null],
    ["08.1", null],
    ["0x7g.1", null],
    ["1.2.3.4.5", null],
    ["127..1", null],
    ["", null],
    ["4294967296", null],
  ])("%s", (text, value) => {
    expect(parseInetAton(text)).toBe(value);
  });
});

describe("normaliseHost: one spelling per address", () => {
  it.each<[string, string]>([
    ["0x7f.1", "127.0.0.1"],
    ["[::1]", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["0000::0001", "::1"],
    ["::1%lo", "::1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::FFFF:7F00:1", "127.0.0.1"],
    ["[::ffff:0:7f00:1]", "127.0.0.1"],
    ["64:ff9b::7f00:1", "127.0.0.1"],
    ["::127.0.0.1", "127.0.0.1"],
    ["fe80:0:0:0:0:0:0:1%eth0", "fe80::1"],
    ["1:0:0:0:0:0:0:1", "1::1"],
    ["::", "::"],
    ["LocalHost.", "localhost"],
    ["\uff11\uff12\uff17.0.0.1", "127.0.0.1"],
    ["example.com", "example.com"],
    ["cafe", "cafe"],
  ])("%s → %s", (raw, want) => {
    expect(normaliseHost(raw)).toBe(want);
  });
});

describe("loopback and this host", () => {
  it.each(["127.1", "127.0.1", "0x7f.1", "0177.1", "2130706433", "0x7f000001", "127.200.3.4", "0", "0.0.0.0", "::1", "::", "[::1]", "::ffff:7f00:1", "localhost", "localhost.", "a.b.localhost", "ip6-loopback"])(
    "%s is loopback",
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );

  it.each(["10.0.0.1", "128.0.0.1", "0.1.2.3", "6379", "::2", "example.com", "localhost.example.com", "notlocalhost"])("%s is not", (host) => expect(isLoopbackHost(host)).toBe(false));

  it("knows the machine's own names and addresses in any spelling", () => {
    const local = new LocalHosts({ names: ["gatehost"], addresses: ["10.1.2.3", "fe80::1"] });
    for (const h of ["GATEHOST", "gatehost.", "10.1.2.3", "10.1.515", "0xa.0x1.0x2.0x3", "167838211", "fe80:0::1", "[fe80::1%eth0]", "::ffff:10.1.2.3"]) expect(local.isLocal(h), h).toBe(true);
    for (const h of ["otherhost", "10.1.2.4"]) expect(local.isLocal(h), h).toBe(false);
  });
});

describe("Endpoints: host and port mentioned anywhere in text", () => {
  const local = new LocalHosts({ names: ["gatehost"], addresses: [] });
  const redis = new Endpoints([{ host: "127.0.0.1", port: 6379 }], local);
  const remote = new Endpoints([{ host: "10.0.0.5", port: 6380 }], local);

  it.each(["('0x7f.1', 6379)", "host='127.1', port=6379", "{host:'::1',port:6379}", "[::ffff:7f00:1]:6379", "localhost 6379", "/dev/tcp/0177.1/6379", "gatehost:6379", "redis://2130706433:6379"])("finds %s", (text) => {
    expect(redis.mentionedIn(text)).not.toBeNull();
  });

  it.each(["('example.com', 6379)", "127.0.0.1:6380", "sleep 6379", "port 16379"])("ignores %s", (text) => {
    expect(redis.mentionedIn(text)).toBeNull();
  });

  it("matches a remote Redis by its address in any spelling, not loopback", () => {
    expect(remote.matches("10.0.5", 6380)).toBe(true);
    expect(remote.matches("0xa000005", 6380)).toBe(true);
    expect(remote.matches("127.0.0.1", 6380)).toBe(false);
    expect(remote.matches("10.0.0.5", 6379)).toBe(false);
  });
});
