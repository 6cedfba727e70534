--[[
  Where a pending approval stands among its agent's and session's waiting asks, for the
  priority of its notifications (fair queueing: agents take turns, then each agent's sessions).
  The pending counts are the ones the create and resolve scripts keep for the flood caps; the
  agent's set of sessions with something pending is kept here, from the same counts. Asks
  without an agent count as one agent together (a set of their ids, as no cap counts them), so
  a flood of them cannot all take the first turn.
  KEYS[1] pending counts    {p}:pending:counts              ("s:<session>", "a:<agent>" → n)
  KEYS[2] agent's sessions  {p}:pending:sessions:<agent>    set of sessions with approvals pending
  KEYS[3] agentless asks    {p}:pending:agentless           set of pending approval ids without an agent
  ARGV[1] session counter field ("" = none)
  ARGV[2] agent counter field ("" = no agent)
  ARGV[3] session key ("" = none)
  ARGV[4] "rank": count this approval's session in (it is pending) and rank it
          "settle": the approval ended; forget sessions (and agentless ids) with nothing pending
  ARGV[5] approval id
  Returns data: rank → { agent pending, session pending, agent's sessions with approvals pending } · settle → 0
]]
local s = 0
local a = 0
if ARGV[1] ~= "" then s = tonumber(redis.call("HGET", KEYS[1], ARGV[1]) or "0") or 0 end
if ARGV[2] ~= "" then a = tonumber(redis.call("HGET", KEYS[1], ARGV[2]) or "0") or 0 end

if ARGV[4] == "settle" then
  if ARGV[2] == "" then
    redis.call("SREM", KEYS[3], ARGV[5])
    a = redis.call("SCARD", KEYS[3])
  end
  if a <= 0 then
    redis.call("DEL", KEYS[2])
  elseif ARGV[3] ~= "" and s <= 0 then
    redis.call("SREM", KEYS[2], ARGV[3])
  end
  return 0
end

if ARGV[2] == "" then
  redis.call("SADD", KEYS[3], ARGV[5])
  a = redis.call("SCARD", KEYS[3])
end
if ARGV[3] ~= "" and s > 0 then
  redis.call("SADD", KEYS[2], ARGV[3])
end
return { a, s, redis.call("SCARD", KEYS[2]) }
