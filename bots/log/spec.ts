import { z } from "zod";
import { defineChannel } from "../spec.ts";

/** The reference channel: prints every request and outcome from `clawgate serve`. */
export const logSpec = defineChannel({
  name: "log",
  label: "log",
  config: z
    .strictObject({
      enabled: z.boolean().default(true).describe("print every request and outcome from `clawgate serve` (the reference channel)"),
    })
    .default({ enabled: true }),
  enabled: (cfg) => cfg.enabled,
  destinations: () => ["log"],
  whenOff: "the log channel is disabled (log.enabled: false)",
  requests: true,
  threads: true,
  load: async () => (await import("./index.ts")).LogChannel,
});
