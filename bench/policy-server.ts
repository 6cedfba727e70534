// The same PolicyEngine behind a loopback HTTP call, as policy servers run it: one POST per
// tool call, JSON in and out. Started by bench/policy-compare.ts as a child process.
import { createServer } from "node:http";
import { PolicyEngine } from "../src/policy/engine.ts";
import { policySchema } from "../src/policy/schema.ts";
import { makeRules } from "./policy.ts";

const rules = Number(process.argv[2] ?? "1000");
const engine = new PolicyEngine(policySchema.parse({ mode: "default", ...makeRules(rules) }));
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const result = engine.evaluate(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    const body = JSON.stringify({ decision: result.decision, rule: result.rule });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === "object" && addr ? addr.port : 0}\n`);
});
