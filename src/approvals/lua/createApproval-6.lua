--[[
  Create a pending approval and append its `approval.created` event, in one step: an ask either
  exists with its event or not at all.
  KEYS[1] approval hash      {p}:approval:<id>
  KEYS[2] pending zset       {p}:pending          (score: deadline ms)
  KEYS[3] index zset         {p}:approvals        (score: created ms)
  KEYS[4] event stream       {p}:events
  KEYS[5] leases zset        {p}:leases           (score: lease expiry ms)
  KEYS[6] pending counts     {p}:pending:counts   ("s:<session>", "a:<agent>" → n)
  ARGV[1] id
  ARGV[2] deadline (ms)
  ARGV[3] now (ms)
  ARGV[4] lease expiry (ms); 0 = nobody waits, no lease
  ARGV[5] event stream MAXLEN (approximate trim)
  ARGV[6] session counter field ("" = none)   ARGV[7] per-session cap (0 = none)
  ARGV[8] agent counter field ("" = none)     ARGV[9] per-agent cap (0 = none)
  ARGV[10] event data (JSON)
  ARGV[11..] field, value pairs of the record
  Returns: { code, count }  (codes: src/lua/codes.ts)
    Code.Done (1)                created
    Code.Exists (-3)             an approval (or a cancel tombstone) with this id already exists; nothing changed
    Code.SessionCapReached (-4)  the session already has `count` pending approvals; nothing changed
    Code.AgentCapReached (-5)    the agent already has `count` pending approvals; nothing changed
]]
-- @include "../../lua/codes.lua"
if redis.call("EXISTS", KEYS[1]) == 1 then
  return { Code.Exists, 0 }
end
if ARGV[6] ~= "" and tonumber(ARGV[7]) > 0 then
  local n = tonumber(redis.call("HGET", KEYS[6], ARGV[6]) or "0")
  if n >= tonumber(ARGV[7]) then
    return { Code.SessionCapReached, n }
  end
end
if ARGV[8] ~= "" and tonumber(ARGV[9]) > 0 then
  local n = tonumber(redis.call("HGET", KEYS[6], ARGV[8]) or "0")
  if n >= tonumber(ARGV[9]) then
    return { Code.AgentCapReached, n }
  end
end
local fields = {}
for i = 11, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call("HSET", KEYS[1], "state", "pending", unpack(fields))
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[1])
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
if tonumber(ARGV[4]) > 0 then
  redis.call("ZADD", KEYS[5], ARGV[4], ARGV[1])
end
if ARGV[6] ~= "" then
  redis.call("HINCRBY", KEYS[6], ARGV[6], 1)
end
if ARGV[8] ~= "" then
  redis.call("HINCRBY", KEYS[6], ARGV[8], 1)
end
redis.call("XADD", KEYS[4], "MAXLEN", "~", ARGV[5], "*", "type", "approval.created", "id", ARGV[1], "at", ARGV[3], "data", ARGV[10])
return { Code.Done, 0 }
