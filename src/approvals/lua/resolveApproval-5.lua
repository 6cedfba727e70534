--[[
  Move a pending approval to a final state. The first valid transition wins; every later
  one is told who decided, so "already approved by alice via slack" is always answerable.
  KEYS[1] approval hash      {p}:approval:<id>
  KEYS[2] pending zset       {p}:pending
  KEYS[3] always-allow set   {p}:rules:always
  KEYS[4] retry-grant key    {p}:grant:<session>:<tool>:<paramsHash>  (any key when unused)
  KEYS[5] message refs hash  {p}:approval:<id>:refs
  ARGV[1] new state: approved | denied | expired | cancelled
  ARGV[2] decision: allow-once | allow-always | deny
  ARGV[3] decided by (actor id)
  ARGV[4] decided via (channel)
  ARGV[5] reason
  ARGV[6] now (ms)
  ARGV[7] pub/sub channel for the decision
  ARGV[8] retry grant window ms (0 = off)
  ARGV[9] expire only: "1" refuses to expire before the deadline
  ARGV[10] rules-changed pub/sub channel
  ARGV[11] keep decided records for (ms)
  Returns: { code, state, decision, decidedBy, decidedVia, reason, decidedAt }
    code  1 resolved now
    code  0 no such approval
    code -1 already final (fields describe the earlier decision)
    code -2 not yet due (expire before deadline)
    code -3 allow-always refused: no rule may be saved for this request
]]
local state = redis.call("HGET", KEYS[1], "state")
if not state then
  return { 0 }
end
if state ~= "pending" then
  local f = redis.call("HMGET", KEYS[1], "decision", "decidedBy", "decidedVia", "decisionReason", "decidedAt")
  return { -1, state, f[1] or "", f[2] or "", f[3] or "", f[4] or "", f[5] or "" }
end
local now = tonumber(ARGV[6])
if ARGV[9] == "1" then
  local deadline = tonumber(redis.call("HGET", KEYS[1], "deadline"))
  if deadline and now < deadline then
    return { -2 }
  end
end
local rule = redis.call("HGET", KEYS[1], "alwaysAllowRule") or ""
if ARGV[2] == "allow-always" and rule == "" then
  return { -3 }
end
redis.call("HSET", KEYS[1], "state", ARGV[1], "decision", ARGV[2], "decidedBy", ARGV[3],
  "decidedVia", ARGV[4], "decisionReason", ARGV[5], "decidedAt", ARGV[6])
redis.call("ZREM", KEYS[2], redis.call("HGET", KEYS[1], "id"))
if ARGV[2] == "allow-always" then
  redis.call("SADD", KEYS[3], rule)
  redis.call("PUBLISH", ARGV[10], "always")
end
local grant = tonumber(ARGV[8])
if ARGV[1] == "approved" and grant and grant > 0 then
  redis.call("SET", KEYS[4], redis.call("HGET", KEYS[1], "id"), "PX", grant)
end
redis.call("PEXPIRE", KEYS[1], ARGV[11])
redis.call("PEXPIRE", KEYS[5], ARGV[11])
local msg = cjson.encode({ id = redis.call("HGET", KEYS[1], "id"), state = ARGV[1], decision = ARGV[2],
  decidedBy = ARGV[3], decidedVia = ARGV[4], reason = ARGV[5], decidedAt = now })
redis.call("PUBLISH", ARGV[7], msg)
return { 1, ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6] }
