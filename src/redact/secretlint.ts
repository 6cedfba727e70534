/**
 * The maintained provider rule set: secretlint's recommended preset
 * (@secretlint/secretlint-rule-preset-recommend, the rules `secretlint --init` enables), run
 * synchronously on a string. Each rule is secretlint's own code behind its documented rule
 * API (`create(context, options)` → `{ file(source) }`, findings through `context.report`);
 * clawgate only supplies a context that collects the reported ranges.
 *
 * Secretlint scans files, not strings, so nothing tells us which text a rule can match. The
 * gates below say it (every match contains one of the keywords), and they feed the same
 * prefilter as clawgate's own rules. A rule a newer preset adds that has no gate here gets
 * no gate: it runs on every text and the prefilter lets every text through (slow, never
 * blind) until one is written — test/trust/redaction-rules.test.ts fails meanwhile.
 */
import { rules as presetRules } from "@secretlint/secretlint-rule-preset-recommend";

/** What a rule needs to be worth running: lower-case literals, and a hint pattern (see secret-rules.ts). */
export interface Gate {
  readonly keywords?: readonly string[];
  readonly hint?: string;
}

/** A user:password@ URL (basicauth, database-connection-string report only those). */
const USERINFO: Gate = { keywords: ["@"], hint: ":\\/\\/[^\\s/]{0,600}@" };

/**
 * Per rule id of the preset: its gate, or null for a rule clawgate does not run: gcp looks
 * only at `.json` and `.p12` files (a key pasted as text is a private key block), and
 * filter-comments only hides findings after a `secretlint-disable` comment — text the agent
 * writes must not be able to switch redaction off.
 */
export const SECRETLINT_GATES: Readonly<Record<string, Gate | null>> = {
  "@secretlint/secretlint-rule-aws": { keywords: ["secretaccesskey", "secret_accesskey", "secretaccess_key", "secret_access_key"] },
  "@secretlint/secretlint-rule-gcp": null,
  "@secretlint/secretlint-rule-npm": { keywords: ["npm_"] },
  "@secretlint/secretlint-rule-slack": { keywords: ["xoxb-", "xoxp-", "xapp-", "xoxa-", "xoxo-", "xoxr-", "hooks.slack.com"] },
  "@secretlint/secretlint-rule-basicauth": USERINFO,
  "@secretlint/secretlint-rule-openai": { keywords: ["t3blbkfj"] },
  "@secretlint/secretlint-rule-anthropic": { keywords: ["sk-ant-api0"] },
  "@secretlint/secretlint-rule-groq": { keywords: ["gsk_"] },
  "@secretlint/secretlint-rule-huggingface": { keywords: ["hf_"] },
  "@secretlint/secretlint-rule-linear": { keywords: ["lin_api_"] },
  "@secretlint/secretlint-rule-notion": { keywords: ["ntn_"] },
  "@secretlint/secretlint-rule-privatekey": { keywords: ["-----begin"] },
  "@secretlint/secretlint-rule-sendgrid": { keywords: ["sg."] },
  "@secretlint/secretlint-rule-shopify": { keywords: ["shppa_", "shpca_", "shpat_", "shpss_"] },
  "@secretlint/secretlint-rule-github": { keywords: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"] },
  "@secretlint/secretlint-rule-gitlab": { keywords: ["glpat-"] },
  "@secretlint/secretlint-rule-grafana": { keywords: ["glc_", "glsa_"] },
  "@secretlint/secretlint-rule-1password": { keywords: ["ops_ey"] },
  "@secretlint/secretlint-rule-database-connection-string": USERINFO,
  "@secretlint/secretlint-rule-hashicorp-vault": { keywords: ["hvs.", "hvb.", "hvr."] },
  "@secretlint/secretlint-rule-vercel": { keywords: ["vcp_", "vci_", "vca_", "vcr_", "vck_"] },
  "@secretlint/secretlint-rule-databricks": { keywords: ["dapi"] },
  "@secretlint/secretlint-rule-docker": { keywords: ["dckr_pat_"] },
  "@secretlint/secretlint-rule-figma": { keywords: ["figd_"] },
  "@secretlint/secretlint-rule-filter-comments": null,
};

/** The part of secretlint's rule API these rules use (@secretlint/types). */
interface RuleCreator {
  meta: { id: string; type?: string };
  messages?: unknown;
  create(context: RuleContext, options: Record<string, unknown>): { file?: (source: Source) => unknown };
}
interface RuleContext {
  report(descriptor: { message: string; range: readonly [number, number] }): void;
  createTranslator(messages: unknown): (id: string, props?: unknown) => string;
  ignore(descriptor: unknown): void;
}
interface Source {
  content: string;
  filePath: undefined;
  ext: string;
  contentType: "text";
}

export interface ProviderRule {
  readonly id: string;
  /** null: the preset has a rule clawgate has no gate for (run on everything). */
  readonly gate: Gate | null;
  /** Appends [start, end) of each finding to `out`. */
  scan(text: string, out: number[]): void;
}

/** Where the rule being run reports to; set for the length of one synchronous call. */
let sink: number[] = [];
const context: RuleContext = {
  report: (d) => {
    sink.push(d.range[0], d.range[1]);
  },
  // Messages are for lint output; clawgate needs only where the secret is.
  createTranslator: () => () => "",
  ignore: () => undefined,
};

function providerRule(creator: RuleCreator): ProviderRule | null {
  const id = creator.meta.id;
  const gate = Object.hasOwn(SECRETLINT_GATES, id) ? SECRETLINT_GATES[id] : undefined;
  if (gate === null) return null;
  const file = creator.create(context, {}).file;
  if (!file) return null;
  return {
    id,
    gate: gate ?? null,
    scan(text, out) {
      const before = sink;
      sink = out;
      try {
        const done = file({ content: text, filePath: undefined, ext: "", contentType: "text" });
        // A rule that reports later would report into another text's findings.
        if (done instanceof Promise) throw new Error(`secretlint rule ${id} is asynchronous: clawgate redacts synchronously`);
      } finally {
        sink = before;
      }
    },
  };
}

const scanners = (): RuleCreator[] => (presetRules as unknown as RuleCreator[]).filter((r) => r.meta.type === "scanner");

/** Ids of every scanner rule in the installed preset (a filter rule is a scanner too). */
export const SECRETLINT_RULE_IDS: readonly string[] = scanners().map((r) => r.meta.id);

let built: readonly ProviderRule[] | null = null;

/** The preset's rules clawgate runs, created on first use. */
export function secretlintRules(): readonly ProviderRule[] {
  built ??= scanners()
    .map(providerRule)
    .filter((r): r is ProviderRule => r !== null);
  return built;
}
