import { describe, expect, it } from "vitest";
import type { ToolCall } from "../../src/policy/call/tool-call.ts";
import { engine } from "./helpers.ts";

/** Hundreds of other file and web rules, so every list below is matched through its index. */
const filler = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => [`write(pkg${i}/**)`, `read(**/*.filler${i})`, `web_fetch(domain:filler${i}.test)`, `web_fetch(https://f${i}.test/v1/*)`][i % 4] as string);

const file = (toolName: string, path: string): ToolCall => ({ toolName, params: { path }, derivedPaths: [path] });
const web = (url: string): ToolCall => ({ toolName: "web_fetch", params: { url } });

describe("indexed path, domain and URL rules decide as a scan of every rule would", () => {
  const e = engine({
    mode: "strict",
    deny: ["write(**/.ssh/**)", "web_fetch(domain:evil.com)", "read(/etc/**)"],
    ask: ["web_fetch(domain:*.corp.example)", "edit(**/*.tar.gz)"],
    allow: [
      "write(pkg1*/**)",
      "read(src/module5/**)",
      "read(/srv/app7/**/*.conf)",
      "edit(**/*.gz)",
      "web_fetch(domain:example.org)",
      "web_fetch(https://api.example.net/v1/*)",
      "web_fetch(https://docs.example.net/a/*)",
      ...filler(800),
    ],
  });
  const cases: Array<[ToolCall, string, string | null]> = [
    // A path rule by a literal segment, anywhere below a relative glob.
    [file("read", "/home/u/app/src/module5/index.ts"), "allow", "read(src/module5/**)"],
    [file("read", "/home/u/app/src/module55/index.ts"), "ask", "mode:strict"],
    [file("read", "/srv/app7/nginx/site.conf"), "allow", "read(/srv/app7/**/*.conf)"],
    [file("read", "/srv/app7/nginx/site.txt"), "ask", "mode:strict"],
    [file("read", "/etc/passwd"), "deny", "read(/etc/**)"],
    // A generic rule earlier in the list still wins over an indexed one.
    [file("write", "/home/u/.ssh/authorized_keys"), "deny", "write(**/.ssh/**)"],
    [file("write", "pkg12/x.ts"), "allow", "write(pkg1*/**)"],
    // By extension: the last dot-part, deny/ask before allow.
    [file("edit", "dist/a.tar.gz"), "ask", "edit(**/*.tar.gz)"],
    [file("edit", "dist/a.gz"), "allow", "edit(**/*.gz)"],
    [file("edit", "dist/a.gzip"), "ask", "mode:strict"],
    // Domains cover their subdomains; `*.x` only subdomains.
    [web("https://example.org/"), "allow", "web_fetch(domain:example.org)"],
    [web("https://a.b.example.org/x"), "allow", "web_fetch(domain:example.org)"],
    [web("https://badexample.org/"), "ask", "mode:strict"],
    [web("https://x.evil.com/"), "deny", "web_fetch(domain:evil.com)"],
    [web("https://corp.example/"), "ask", "mode:strict"],
    [web("https://git.corp.example/"), "ask", "web_fetch(domain:*.corp.example)"],
    // URL prefixes by scheme://authority; another scheme or host is another key.
    [web("https://api.example.net/v1/items"), "allow", "web_fetch(https://api.example.net/v1/*)"],
    [web("http://api.example.net/v1/items"), "ask", "mode:strict"],
    [web("https://api.example.net/v2/items"), "ask", "mode:strict"],
    [web("https://docs.example.net/a/b"), "allow", "web_fetch(https://docs.example.net/a/*)"],
  ];
  it.each(cases)("%j → %s by %s", (call, decision, rule) => {
    const d = e.evaluate(call);
    expect(d.decision).toBe(decision);
    expect(d.rule).toBe(rule);
  });
});
