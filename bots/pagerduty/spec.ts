import { z } from "zod";
import { defineChannel } from "../spec.ts";

/** PagerDuty Events API v2: an escalation target that pages, never a place to decide. */
export const pagerdutySpec = defineChannel({
  name: "pagerduty",
  label: "PagerDuty",
  config: z
    .strictObject({
      routingKey: z.string().min(1).optional().describe("Events API v2 integration (routing) key used by the `pagerduty` target"),
      apiUrl: z.string().default("https://events.pagerduty.com").describe("Events API base override (tests, proxies)"),
    })
    .optional(),
  destinations: (cfg) => (cfg.routingKey ? [cfg.routingKey] : []),
  noDestination: 'set pagerduty.routingKey or write "pagerduty:<routing key>"',
  whenOff: "add a pagerduty block (pagerduty: { routingKey: … }) to page through PagerDuty",
  address: { pattern: /^\S+$/, expected: "an Events API v2 routing key", placeholder: "routing key" },
  // Paging only: an explicit target reaches it, an incident has no thread, and its target is a key.
  requests: false,
  threads: false,
  secretTarget: true,
  recipientLabel: "PagerDuty",
  load: async () => (await import("./index.ts")).PagerDutyChannel,
});
