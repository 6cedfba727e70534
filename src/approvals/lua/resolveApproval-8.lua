--[[
  Move a pending approval to a final state and append the matching event. The first valid
  transition wins; every later one is told who decided, so "already approved by alice via
  slack" is always answerable. A decision that arrives after the deadline expires the approval
  instead, whether or not any expiry job or sweeper has run yet.
  An approving decision carries the decider's Ed25519 signature (made in Node by the process that
  verified the decider); it is stored with the record and published with the outcome, and the
  waiting gate honours the approval only if the signature verifies. This script cannot check it
  and does not need to: writing "approved" here without one releases nothing.
  An allow-always rule is not saved here: serve adds it to the signed runtime rules snapshot.
  KEYS[1] approval hash      {p}:approval:<id>
  KEYS[2] pending zset       {p}:pending
  KEYS[3] retry-grant key    {p}:grant:<session>:<tool>:<paramsHash>  (any key when unused)
  KEYS[4] message refs hash  {p}:approval:<id>:refs
  KEYS[5] event stream       {p}:events
  KEYS[6] leases zset        {p}:leases
  KEYS[7] pending counts     {p}:pending:counts
  KEYS[8] notified set       {p}:approval:<id>:notified
  ARGV[1] new state: approved | denied | expired | cancelled
  ARGV[2] decision: allow-once | allow-always | deny | "" (expired, cancelled)
  ARGV[3] decided by (actor id)
  ARGV[4] decided via (channel)
  ARGV[5] reason
  ARGV[6] now (ms)
  ARGV[7] the approval's own pub/sub channel (read only by processes of the previous format)
  ARGV[8] retry grant window ms (0 = off)
  ARGV[9] guard: "" none | "due" only once the deadline passed | "lease" only once the lease lapsed
  ARGV[10] decision signature ("<key id>.<base64url>"; "" for closing transitions)
  ARGV[11] keep decided records for (ms)
  ARGV[12] event stream MAXLEN (approximate trim)
  ARGV[13] "1": when no such approval exists, leave a cancelled tombstone so a create still in
           flight for this id can never land (an ask abandoned before its create finished)
  ARGV[14] id (used for the tombstone and the events)
  ARGV[15] the shared decisions channel every waiting process subscribes to (the message carries the id)
  Returns: { code, state, decision, decidedBy, decidedVia, reason, decidedAt, sig }  (codes: src/lua/codes.ts)
    Code.Done (1)            resolved now
    Code.NotFound (-1)       no such approval (a tombstone was left if ARGV[13] == "1")
    Code.NotPending (-2)     already final (fields describe the earlier decision)
    Code.NotDue (-6)         guard not met (not yet due / lease still held)
    Code.AlwaysRefused (-7)  allow-always refused: no rule may be saved for this request
    Code.Expired (-8)        the deadline had passed: the approval is now expired (fields describe the expiry)
]]
-- @include "../../lua/codes.lua"
local id = ARGV[14]
local now = tonumber(ARGV[6])
local keep = ARGV[11]
local state = redis.call("HGET", KEYS[1], "state")
if not state then
  if ARGV[13] == "1" then
    redis.call("HSET", KEYS[1], "id", id, "state", "cancelled", "decidedBy", ARGV[3], "decidedVia", ARGV[4],
      "decisionReason", ARGV[5], "decidedAt", ARGV[6], "tombstone", "1")
    redis.call("PEXPIRE", KEYS[1], keep)
  end
  return { Code.NotFound }
end
if state ~= "pending" then
  local f = redis.call("HMGET", KEYS[1], "decision", "decidedBy", "decidedVia", "decisionReason", "decidedAt", "sig", "sig~1")
  return { Code.NotPending, state, f[1] or "", f[2] or "", f[3] or "", f[4] or "", f[5] or "", (f[6] or "") .. (f[7] or "") }
end

local f = redis.call("HMGET", KEYS[1], "deadline", "alwaysAllowRule", "sessionKey", "agentId")
local deadline = tonumber(f[1] or "0") or 0
local newState, decision, by, via, reason = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local code = Code.Done
if ARGV[9] == "due" and now < deadline then
  return { Code.NotDue }
end
if ARGV[9] == "lease" then
  local lease = redis.call("ZSCORE", KEYS[6], id)
  if not lease or now < tonumber(lease) then
    return { Code.NotDue }
  end
end
if newState ~= "expired" and deadline > 0 and now >= deadline then
  newState, decision, by, via, reason = "expired", "", "clawgate", "clawgate", "deadline passed before a decision"
  code = Code.Expired
end
if decision == "allow-always" and (f[2] or "") == "" then
  return { Code.AlwaysRefused }
end

redis.call("HSET", KEYS[1], "state", newState, "decision", decision, "decidedBy", by,
  "decidedVia", via, "decisionReason", reason, "decidedAt", ARGV[6])
local sig = ""
if newState == "approved" then
  sig = ARGV[10]
  -- Two pieces of at most 64 bytes each keep the record in Redis's compact hash encoding.
  redis.call("HSET", KEYS[1], "sig", string.sub(sig, 1, 64))
  if #sig > 64 then
    redis.call("HSET", KEYS[1], "sig~1", string.sub(sig, 65))
  end
end
redis.call("ZREM", KEYS[2], id)
redis.call("ZREM", KEYS[6], id)
local counters = {}
if f[3] and f[3] ~= "" then counters[#counters + 1] = "s:" .. f[3] end
if f[4] and f[4] ~= "" then counters[#counters + 1] = "a:" .. f[4] end
for _, c in ipairs(counters) do
  if redis.call("HINCRBY", KEYS[7], c, -1) <= 0 then
    redis.call("HDEL", KEYS[7], c)
  end
end
local grant = tonumber(ARGV[8])
if newState == "approved" and grant and grant > 0 then
  redis.call("SET", KEYS[3], id, "PX", grant)
end
redis.call("PEXPIRE", KEYS[1], keep)
redis.call("PEXPIRE", KEYS[4], keep)
redis.call("PEXPIRE", KEYS[8], keep)

local event = "approval.decided"
if newState == "expired" then event = "approval.expired" elseif newState == "cancelled" then event = "approval.cancelled" end
local data = cjson.encode({ state = newState, decision = decision, by = by, via = via, reason = reason })
redis.call("XADD", KEYS[5], "MAXLEN", "~", ARGV[12], "*", "type", event, "id", id, "at", ARGV[6], "data", data)
local msg = cjson.encode({ id = id, state = newState, decision = decision, decidedBy = by, decidedVia = via,
  reason = reason, decidedAt = now, sig = sig })
redis.call("PUBLISH", ARGV[15], msg)
redis.call("PUBLISH", ARGV[7], msg)
return { code, newState, decision, by, via, reason, ARGV[6], sig }
