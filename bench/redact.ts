// `node --import tsx bench/redact.ts`: what redaction costs per KB of text, for the text agents
// mostly send (never-seen command lines, no secret) and for lines that carry one.
import { pathToFileURL } from "node:url";
import { redactText } from "../src/redact/redact.ts";
import { makeCorpus } from "./corpus.ts";
import { percentile } from "./stats.ts";

export interface RedactBenchResult {
  /** µs per KB over never-seen corpus lines, one call per line. */
  cleanLinesUsPerKb: number;
  /** µs per KB over 8 KB blocks of corpus lines (log-sized texts). */
  cleanBlocksUsPerKb: number;
  /** µs per KB over corpus lines that each carry a secret. */
  secretLinesUsPerKb: number;
  /** p99 of one call, µs, over the clean lines. */
  cleanLineP99us: number;
  lines: number;
}

const SECRETS = [
  "--password=hunter22hunter",
  "https://bob:s3cr3tpw@github.com/x.git",
  "-H 'Authorization: Bearer abcdef0123456789abcdef'",
  "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LmNbVc",
  "API_TOKEN=zzzyyyxxx123456",
  "'https://api.example.com/v1?access_token=tok3n5ecret'",
  "xoxb-1234567890-abcdefghijklmnop",
  "-u bob:pa55word",
];

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** The fastest of `rounds` passes over `texts` (a loaded VM adds only noise above it). */
function usPerKb(texts: string[], rounds: number): number {
  let bytes = 0;
  for (const t of texts) bytes += t.length;
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (const t of texts) redactText(t);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000);
  }
  return r2(best / (bytes / 1024));
}

/**
 * The redactor remembers only its last four clean texts, so a text seen in an earlier round
 * costs what a new one does; each figure is the fastest of five rounds.
 */
export function benchRedact(n = 10_000): RedactBenchResult {
  // Distinct seeds per set: a line seen before would be settled by the clean-text memory.
  const warm = makeCorpus(2_000, 3);
  for (const line of warm) redactText(line);
  const clean = makeCorpus(n, 17);
  const samples: number[] = [];
  for (const line of clean) {
    const t0 = process.hrtime.bigint();
    redactText(line);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  const blocks: string[] = [];
  let block = "";
  for (const line of makeCorpus(n, 23)) {
    block += `${line}\n`;
    if (block.length >= 8 * 1024) {
      blocks.push(block);
      block = "";
    }
  }
  const secret = makeCorpus(n, 29).map((line, i) => `${line} ${SECRETS[i % SECRETS.length]}`);
  return {
    cleanLinesUsPerKb: usPerKb(makeCorpus(n, 31), 5),
    cleanBlocksUsPerKb: usPerKb(blocks, 5),
    secretLinesUsPerKb: usPerKb(secret, 5),
    cleanLineP99us: r2(percentile(samples, 99)),
    lines: n,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(benchRedact());
}
