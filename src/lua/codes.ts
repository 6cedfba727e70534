import { ApprovalAlreadyDecidedError, ApprovalExpiredError, ApprovalNotFoundError, AuditBrokenError, BadRequestError, ClawgateError, ConflictError, TooManyPendingError } from "../errors.ts";

/**
 * The status codes clawgate's Lua scripts return: one number, one meaning, in every script
 * (BullMQ's `ErrorCode`). Scripts spell them `Code.<Name>` through codes.lua, which
 * `npm run gen:lua` writes from this enum, and each script's header lists the ones it returns
 * (test/lua/codes.test.ts holds every script to both). Callers branch on the members they
 * expect as outcomes and hand any other to `scriptError`, the one place a code becomes an error.
 */
export enum ScriptCode {
  /** The change was made. */
  Done = 1,
  /** The same change was made before (an idempotency key matched); nothing changed now. */
  Duplicate = 2,
  /** Compare-and-set lost: the value was not the one expected, someone else got there first; nothing changed. */
  Conflict = 0,
  /** No such approval. */
  NotFound = -1,
  /** The approval is no longer pending; the reply describes how it ended. */
  NotPending = -2,
  /** An approval (or the tombstone of an abandoned ask) with this id already exists. */
  Exists = -3,
  /** The session already has its cap of pending approvals; the reply carries the count. */
  SessionCapReached = -4,
  /** The agent already has its cap of pending approvals; the reply carries the count. */
  AgentCapReached = -5,
  /** The caller's guard did not hold: the deadline has not passed, or the waiter still holds its lease. */
  NotDue = -6,
  /** allow-always refused: no rule may be saved for this request. */
  AlwaysRefused = -7,
  /** The deadline passed before this decision: the approval is now expired. */
  Expired = -8,
  /** This escalation tier already fired. */
  TierFired = -9,
  /** The audit head is missing or malformed while the audit stream has entries. */
  AuditHeadBroken = -10,
  /** The audit stream refuses the next entry's id: entries past the head exist, or were deleted. */
  AuditSeqTaken = -11,
  /** The script refused its own arguments (a bug in the caller). */
  BadArgument = -12,
  /** The audit entry an idempotency key names is gone from the stream. */
  AuditEntryGone = -13,
  /** The audit stream no longer ends at the entry that was verified. */
  AuditTailMoved = -14,
}

/** What the code was about, for the error's message and details. */
export interface ScriptErrorContext {
  /** The approval id, audit key… the script acted on. */
  id?: string;
  /** How a final approval ended, in words ("approved by alice via slack") — NotPending, Expired. */
  ended?: string;
  /** Who reached a cap and with how many pending — SessionCapReached, AgentCapReached. */
  who?: string;
  count?: number;
  /** What changed under a Conflict ("the audit head") and what to do about it. */
  subject?: string;
  retry?: string;
  details?: Record<string, unknown>;
}

const AUDIT_FIX = "run `clawgate audit verify`, then `clawgate audit repair`";

/** The error a status code means (BullMQ's `finishedErrors`); success codes and unknown numbers are internal errors. */
export function scriptError(code: number, ctx: ScriptErrorContext = {}): ClawgateError {
  const id = ctx.id ?? "";
  const details = ctx.details ?? {};
  const known = code as ScriptCode;
  switch (known) {
    case ScriptCode.NotFound:
      return new ApprovalNotFoundError(id);
    case ScriptCode.NotPending:
      return new ApprovalAlreadyDecidedError(`approval ${id} was already ${ctx.ended ?? "decided"}`, details);
    case ScriptCode.Exists:
      return new ApprovalAlreadyDecidedError(`approval ${id} already exists or was abandoned before its create landed`, details);
    case ScriptCode.SessionCapReached:
      return new TooManyPendingError("session", ctx.who ?? "", ctx.count ?? 0);
    case ScriptCode.AgentCapReached:
      return new TooManyPendingError("agent", ctx.who ?? "", ctx.count ?? 0);
    case ScriptCode.NotDue:
      return new BadRequestError(`approval ${id} cannot be closed yet: its deadline has not passed or its waiter still holds the lease`, details);
    case ScriptCode.AlwaysRefused:
      return new BadRequestError(`approval ${id} cannot be always-allowed (it matches a dangerous pattern or could not be fully understood); approve it once instead`, details);
    case ScriptCode.Expired:
      return new ApprovalExpiredError(`approval ${id} expired before this decision arrived; the agent was told it timed out`, details);
    case ScriptCode.Conflict:
      return new ConflictError(`${ctx.subject ?? "the stored value"} changed while this ran (another writer got there first): ${ctx.retry ?? "try again"}`, details);
    case ScriptCode.TierFired:
      return new ConflictError(`escalation tier ${String(ctx.details?.tier ?? "")} of approval ${id} already fired`, details);
    case ScriptCode.AuditHeadBroken:
      return new AuditBrokenError(`audit head ${id} is missing or malformed while the log has entries; refusing to start a new chain (${AUDIT_FIX})`, details);
    case ScriptCode.AuditSeqTaken:
      return new AuditBrokenError(`audit stream already holds entries past the head ${id} (head rolled back, or entries deleted from the end); refusing to fork the chain (${AUDIT_FIX})`, details);
    case ScriptCode.AuditEntryGone:
      return new AuditBrokenError(`the audit entry ${String(ctx.details?.seq ?? "")} recorded for this dedupe key is gone from the stream (run \`clawgate audit verify\`)`, details);
    case ScriptCode.AuditTailMoved:
      return new AuditBrokenError("the audit log changed while it was being repaired: run `clawgate audit repair` again", details);
    case ScriptCode.BadArgument:
      return new ClawgateError("internal", `a Lua script refused its arguments${id ? ` (${id})` : ""}`, details);
    case ScriptCode.Done:
    case ScriptCode.Duplicate:
      return new ClawgateError("internal", `Lua status ${ScriptCode[code as ScriptCode]} is not an error${id ? ` (${id})` : ""}`, details);
    default:
      return unknownCode(known, code, id, details);
  }
}

/** Takes `never`, so a member added to the enum without a case above does not compile. */
function unknownCode(_unhandled: never, code: number, id: string, details: Record<string, unknown>): ClawgateError {
  return new ClawgateError("internal", `unknown Lua status code ${JSON.stringify(code)}${id ? ` (${id})` : ""}`, details);
}

/** codes.lua: the enum as a Lua table, included by every script that returns a status code. */
export function codesLua(): string {
  const members = Object.entries(ScriptCode).filter(([, v]) => typeof v === "number");
  const body = members.map(([k, v]) => `  ${k} = ${v},`).join("\n");
  return `-- Generated from src/lua/codes.ts by \`npm run gen:lua\` — do not edit.\n-- Status codes: one number, one meaning, in every script.\nlocal Code = {\n${body}\n}\n`;
}
