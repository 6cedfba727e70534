-- Generated from src/lua/codes.ts by `npm run gen:lua` — do not edit.
-- Status codes: one number, one meaning, in every script.
local Code = {
  Done = 1,
  Duplicate = 2,
  Conflict = 0,
  NotFound = -1,
  NotPending = -2,
  Exists = -3,
  SessionCapReached = -4,
  AgentCapReached = -5,
  NotDue = -6,
  AlwaysRefused = -7,
  Expired = -8,
  TierFired = -9,
  AuditHeadBroken = -10,
  AuditSeqTaken = -11,
  BadArgument = -12,
  AuditEntryGone = -13,
  AuditTailMoved = -14,
}
