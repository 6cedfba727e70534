import { createHash } from "node:crypto";
import { UnrecoverableError } from "bullmq";
import { z } from "zod";
import type { Recipient } from "../../src/approvals/events.ts";
import type { ApprovalRecord } from "../../src/approvals/record.ts";
import { describeResolution, resolutionOf } from "../../src/approvals/record.ts";
import type { ClawgateConfig } from "../../src/config/schema.ts";
import { ChannelRateLimitedError, type ApprovalContext, type ChannelAdapter, type ChannelDeps, type ChannelPacing, type MessageRef, type NotifyKind } from "../../src/channel/adapter.ts";

const refSchema = z.object({ routingKey: z.string().min(1), dedupKey: z.string().min(1) });
type PagerDutyRef = z.infer<typeof refSchema>;
const digest = (routingKey: string) => createHash("sha256").update(routingKey).digest("hex").slice(0, 16);

const SEVERITY: Record<ApprovalRecord["risk"]["class"], string> = { critical: "critical", high: "error", medium: "warning", low: "info" };

/**
 * PagerDuty Events API v2 as an escalation target: an escalation tier triggers an alert
 * (dedup_key = the approval id, so a retried or repeated trigger is one incident), and the
 * approval's final state resolves it. Paging only: decisions are made on the other channels.
 */
export class PagerDutyChannel implements ChannelAdapter {
  readonly name = "pagerduty";
  readonly refSchema = refSchema;
  // The Events API allows 120 events a minute per routing key; triggers and resolves count alike.
  // A routing key is a credential: buckets (and the logs naming them) carry a digest of it.
  readonly pacing: ChannelPacing = {
    buckets: { events: { intervalMs: 500, burst: 10 } },
    post: (recipient) => ({ bucket: "events", key: digest(recipient.target) }),
    edit: (ref) => ({ bucket: "events", key: digest((ref as PagerDutyRef).routingKey) }),
  };
  private readonly apiUrl: string;

  constructor(deps: ChannelDeps) {
    const cfg = deps.config.pagerduty as NonNullable<ClawgateConfig["pagerduty"]>;
    this.apiUrl = cfg.apiUrl.replace(/\/+$/, "");
  }

  async post(ctx: ApprovalContext, recipient: Recipient, _kind: NotifyKind, tier: number): Promise<MessageRef> {
    const r = ctx.record;
    await this.send({
      routing_key: recipient.target,
      event_action: "trigger",
      dedup_key: r.id,
      payload: {
        summary: `clawgate: approval needed for ${r.tool} (${r.risk.class} risk) — ${r.id}`.slice(0, 1024),
        source: r.agentId || "clawgate",
        severity: SEVERITY[r.risk.class],
        component: r.tool,
        group: "clawgate",
        class: "approval",
        custom_details: { approval: r.id, tool: r.tool, agent: r.agentId, rule: r.rule, reason: r.policyReason, tier, deadline: new Date(r.deadline).toISOString() },
      },
      ...(ctx.config.server.publicUrl ? { links: [{ href: `${ctx.config.server.publicUrl.replace(/\/+$/, "")}/api/v1/approvals/${r.id}`, text: "approval" }] } : {}),
    });
    return { routingKey: recipient.target, dedupKey: r.id } satisfies PagerDutyRef;
  }

  async update(ctx: ApprovalContext, ref: MessageRef): Promise<void> {
    const r = ref as PagerDutyRef;
    if (ctx.record.state === "pending") return;
    const res = resolutionOf(ctx.record);
    await this.send({ routing_key: r.routingKey, event_action: "resolve", dedup_key: r.dedupKey, ...(res ? { payload: { summary: describeResolution(res).slice(0, 1024), source: "clawgate", severity: "info" } } : {}) });
  }

  private async send(body: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${this.apiUrl}/v2/enqueue`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (res.status === 202 || res.status === 200) return;
    const text = await res.text().catch(() => "");
    if (res.status === 429) throw new ChannelRateLimitedError(Number(res.headers.get("retry-after") ?? "") * 1000 || 5_000);
    // 400: the event itself is wrong (e.g. an invalid routing key); retrying cannot fix it.
    if (res.status >= 400 && res.status < 500) throw new UnrecoverableError(`PagerDuty rejected the event (${res.status}): ${text.slice(0, 300)}`);
    throw new Error(`PagerDuty answered ${res.status}: ${text.slice(0, 300)}`);
  }
}
