import { z } from "zod";
import type { Recipient } from "../../src/approvals/events.ts";
import { renderOutcomeText, renderRequestText } from "../../templates/text.ts";
import type { ApprovalContext, ChannelAdapter, ChannelDeps, MessageRef, NotifyKind } from "../../src/channel/adapter.ts";

/** The reference channel: prints requests and outcomes from `clawgate serve`. */
export class LogChannel implements ChannelAdapter {
  readonly name = "log";
  readonly refSchema = z.object({ printedAt: z.number(), tier: z.number() });
  private readonly out: NodeJS.WritableStream;

  constructor(deps: ChannelDeps) {
    this.out = deps.out ?? process.stdout;
  }

  async post(ctx: ApprovalContext, recipient: Recipient, kind: NotifyKind, tier: number): Promise<MessageRef> {
    const to = kind === "escalated" && recipient.label ? ` (escalated to ${recipient.label})` : "";
    this.out.write(`${renderRequestText(ctx.record, kind)}${to}\n`);
    return { printedAt: Date.now(), tier };
  }

  async update(ctx: ApprovalContext): Promise<void> {
    this.out.write(`${renderOutcomeText(ctx.record)}\n`);
  }
}
