--[[
  Where a pending approval stands among its agent's and session's waiting asks, for the
  priority of its notifications (fair queueing: agents take turns, then each agent's sessions).
  The pending counts are the ones the create and resolve scripts keep for the flood caps; the
  agent's set of sessions with something pending is kept here, from the same counts.
  KEYS[1] pending counts    {p}:pending:counts              ("s:<session>", "a:<agent>" → n)
  KEYS[2] agent's sessions  {p}:pending:sessions:<agent>    set of sessions with approvals pending
  ARGV[1] session counter field ("" = none)
  ARGV[2] agent counter field ("" = none)
  ARGV[3] session key ("" = none)
  ARGV[4] "rank": count this approval's session in (it is pending) and rank it
          "settle": an approval of this agent and session ended; forget sessions with nothing pending
  Returns: rank → { agent pending, session pending, agent's sessions with approvals pending } · settle → 0
]]
local s = 0
local a = 0
if ARGV[1] ~= "" then s = tonumber(redis.call("HGET", KEYS[1], ARGV[1]) or "0") or 0 end
if ARGV[2] ~= "" then a = tonumber(redis.call("HGET", KEYS[1], ARGV[2]) or "0") or 0 end

if ARGV[4] == "settle" then
  if a <= 0 then
    redis.call("DEL", KEYS[2])
  elseif ARGV[3] ~= "" and s <= 0 then
    redis.call("SREM", KEYS[2], ARGV[3])
  end
  return 0
end

local n = 0
if ARGV[2] ~= "" then
  if ARGV[3] ~= "" and s > 0 then
    redis.call("SADD", KEYS[2], ARGV[3])
  end
  n = redis.call("SCARD", KEYS[2])
end
return { a, s, n }
