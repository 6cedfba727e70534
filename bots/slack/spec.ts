import { z } from "zod";
import { defineChannel } from "../spec.ts";

const slackConfig = z.strictObject({
  botToken: z.string().min(1, "set the Slack bot token (xoxb-…), e.g. \"${SLACK_BOT_TOKEN}\""),
  signingSecret: z.string().min(1, "set the Slack signing secret, e.g. \"${SLACK_SIGNING_SECRET}\""),
  appToken: z.string().optional().describe("xapp-… token: use Socket Mode instead of HTTP"),
  channel: z.string().min(1).describe("channel id for approval requests"),
  approvers: z
    .strictObject({ users: z.array(z.string()).default([]), userGroups: z.array(z.string()).default([]) })
    .default({ users: [], userGroups: [] }),
  apiUrl: z.string().optional().describe("Slack Web API base override (tests, proxies)"),
});
export type SlackConfig = z.output<typeof slackConfig>;

/** A Slack user id (a DM) rather than a channel. */
export const isSlackUserId = (id: string) => /^[UW][A-Z0-9]+$/.test(id);

export const slackSpec = defineChannel({
  name: "slack",
  label: "Slack",
  config: slackConfig.optional(),
  destinations: (cfg) => [cfg.channel],
  whenOff: "no slack block is configured",
  address: { pattern: /^[CDGUW][A-Z0-9]{2,}$/, expected: "a Slack channel id (C…/G…) or user id (U…/W…)" },
  person: { describe: "Slack user id, e.g. U0ALICE" },
  // A DM to a user id reaches that user; a channel's members still need to be approvers.
  grants: isSlackUserId,
  requests: true,
  threads: true,
  callbacks: ["/slack/events"],
  doctor: async (cfg) => (await import("./doctor.ts")).checkSlack(cfg),
  load: async () => (await import("./index.ts")).SlackChannel,
});
