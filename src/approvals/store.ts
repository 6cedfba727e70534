import type { Redis } from "ioredis";
import { ApprovalNotFoundError, BadRequestError } from "../errors.ts";
import type { Risk } from "../policy/types.ts";
import { canonicalJson, paramsHash } from "./canonical.ts";
import { APPROVAL_ID, newApprovalId } from "./id.ts";
import { keys, type Keys } from "./keys.ts";
import {
  recordFromHash,
  type ApprovalRecord,
  type ApprovalState,
  type DecisionKind,
  type FinalState,
  type Requester,
  type Resolution,
} from "./record.ts";
import { redact } from "./redact.ts";
import { scripts } from "./scripts.ts";

export interface NewApproval {
  tool: string;
  params: unknown;
  agentId?: string | undefined;
  sessionKey?: string | undefined;
  requester?: Requester | undefined;
  risk: Risk;
  rule: string | null;
  policyReason: string;
  alwaysAllowRule: string | null;
  timeoutMs: number;
}

export interface Decide {
  state: FinalState;
  decision: DecisionKind | "";
  by: string;
  via: string;
  reason?: string | undefined;
  /** expire: refuse while the deadline has not passed (a sweeper racing a slow clock). */
  onlyWhenDue?: boolean;
}

export type ResolveOutcome =
  | { kind: "resolved"; resolution: Resolution }
  | { kind: "already"; resolution: Resolution }
  | { kind: "not_found" }
  | { kind: "not_due" }
  | { kind: "always_refused" };

export interface StoreOptions {
  prefix: string;
  keepForMs: number;
  retryGrantMs: number;
  maxParamsBytes: number;
}

const MAX_REASON = 2_000;

/** Approval records in Redis. Every state change is one Lua script (see ./lua). */
export class ApprovalStore {
  readonly k: Keys;
  constructor(
    readonly redis: Redis,
    private readonly opts: StoreOptions,
  ) {
    this.k = keys(opts.prefix);
  }

  async create(input: NewApproval, now = Date.now()): Promise<ApprovalRecord> {
    const id = newApprovalId();
    const hash = paramsHash(input.params);
    const sessionKey = input.sessionKey ?? "";
    let params = canonicalJson(redact(input.params));
    if (params.length > this.opts.maxParamsBytes) {
      params = JSON.stringify({ truncated: true, bytes: params.length, head: params.slice(0, this.opts.maxParamsBytes) });
    }
    const record: ApprovalRecord = {
      id,
      tool: input.tool,
      params,
      paramsHash: hash,
      agentId: input.agentId ?? "",
      sessionKey,
      requester: input.requester ?? {},
      risk: input.risk,
      rule: input.rule ?? "",
      policyReason: input.policyReason,
      alwaysAllowRule: input.alwaysAllowRule ?? "",
      createdAt: now,
      deadline: now + input.timeoutMs,
      state: "pending",
      decision: "",
      decidedBy: "",
      decidedVia: "",
      decisionReason: "",
      decidedAt: null,
      grantKey: this.k.grant(sessionKey, input.tool, hash),
      outcome: "",
    };
    const fields: Array<string | number> = [];
    for (const [key, value] of Object.entries(record)) {
      if (key === "state" || value === null || value === "") continue;
      fields.push(key, typeof value === "object" ? JSON.stringify(value) : value);
    }
    const created = await scripts(this.redis).createApproval.run([this.k.approval(id), this.k.pending, this.k.index], [id, record.deadline, now, ...fields]);
    // A 60-bit id colliding is not a case worth a retry loop, but it must never overwrite.
    if (created !== 1) throw new Error(`approval id collision on ${id}`);
    return record;
  }

  async get(id: string): Promise<ApprovalRecord | null> {
    if (!APPROVAL_ID.test(id)) return null;
    return recordFromHash(await this.redis.hgetall(this.k.approval(id)));
  }

  async require(id: string): Promise<ApprovalRecord> {
    const r = await this.get(id);
    if (!r) throw new ApprovalNotFoundError(id);
    return r;
  }

  async list(opts: { state?: ApprovalState | "all"; limit?: number } = {}): Promise<ApprovalRecord[]> {
    const limit = opts.limit ?? 100;
    const state = opts.state ?? "pending";
    const ids = state === "pending" ? await this.redis.zrange(this.k.pending, 0, "-1") : await this.redis.zrange(this.k.index, 0, String(Math.max(limit * 4, 400) - 1), "REV");
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.k.approval(id));
    const rows = (await pipe.exec()) ?? [];
    const out: ApprovalRecord[] = [];
    const gone: string[] = [];
    rows.forEach(([err, h], i) => {
      const r = err ? null : recordFromHash(h as Record<string, string>);
      if (!r) gone.push(ids[i] as string);
      else if (state === "all" || r.state === state) out.push(r);
    });
    // Records expire (approvals.keepFor); drop their index entries lazily.
    if (gone.length) await this.redis.zrem(this.k.index, ...gone);
    return out.slice(0, limit);
  }

  /** Ids of pending approvals whose deadline has passed (for the expiry sweeper). */
  async overdue(now = Date.now()): Promise<string[]> {
    return this.redis.zrangebyscore(this.k.pending, 0, now);
  }

  async resolve(id: string, d: Decide, now = Date.now()): Promise<ResolveOutcome> {
    if (!APPROVAL_ID.test(id)) return { kind: "not_found" };
    const reason = (d.reason ?? "").slice(0, MAX_REASON);
    if (d.state === "denied" && d.decision !== "deny") throw new BadRequestError("a denial must carry the deny decision");
    const grantKey = (await this.redis.hget(this.k.approval(id), "grantKey")) ?? this.k.grant("", "", id);
    const res = (await scripts(this.redis).resolveApproval.run(
      [this.k.approval(id), this.k.pending, this.k.always, grantKey, this.k.refs(id)],
      [
      d.state,
      d.decision,
      d.by,
      d.via,
      reason,
      now,
      this.k.decisionChannel(id),
      d.state === "approved" ? this.opts.retryGrantMs : 0,
      d.onlyWhenDue ? "1" : "0",
      this.k.rulesChannel,
      this.opts.keepForMs,
      ],
    )) as Array<string | number>;
    const code = Number(res[0]);
    if (code === 0) return { kind: "not_found" };
    if (code === -2) return { kind: "not_due" };
    if (code === -3) return { kind: "always_refused" };
    const resolution: Resolution = {
      id,
      state: String(res[1]) as FinalState,
      decision: String(res[2]) as DecisionKind | "",
      decidedBy: String(res[3] ?? ""),
      decidedVia: String(res[4] ?? ""),
      reason: String(res[5] ?? ""),
      decidedAt: Number(res[6] ?? 0),
    };
    return { kind: code === 1 ? "resolved" : "already", resolution };
  }

  /** The retry grant for an identical call, used at most once. */
  async consumeGrant(sessionKey: string, tool: string, params: unknown): Promise<string | null> {
    return this.redis.getdel(this.k.grant(sessionKey, tool, paramsHash(params)));
  }


  async addRef(id: string, channel: string, ref: unknown): Promise<void> {
    const key = this.k.refs(id);
    await this.redis.multi().hset(key, channel, JSON.stringify(ref)).pexpire(key, this.opts.keepForMs).exec();
  }

  async refs(id: string): Promise<Record<string, unknown>> {
    const h = await this.redis.hgetall(this.k.refs(id));
    return Object.fromEntries(Object.entries(h).map(([ch, v]) => [ch, JSON.parse(v) as unknown]));
  }

  async setOutcome(id: string, outcome: string): Promise<void> {
    // Only annotate records that still exist; HSET on a missing key would resurrect a stub.
    if (await this.redis.exists(this.k.approval(id))) await this.redis.hset(this.k.approval(id), "outcome", outcome.slice(0, MAX_REASON));
  }
}
