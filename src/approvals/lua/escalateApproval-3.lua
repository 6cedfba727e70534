--[[
  Record that escalation tier N of a pending approval fired: who it reached may now decide, and
  an `approval.escalated` event tells `serve` to notify them. Idempotent per tier.
  KEYS[1] approval hash   {p}:approval:<id>
  KEYS[2] notified set    {p}:approval:<id>:notified
  KEYS[3] event stream    {p}:events
  ARGV[1] id
  ARGV[2] tier (1-based)
  ARGV[3] now (ms)
  ARGV[4] event stream MAXLEN (approximate trim)
  ARGV[5] event data (JSON: the tier's recipients)
  ARGV[6..] identities notified by this tier ("person:bob", "slack:U0BOB", …)
  Returns (codes: src/lua/codes.ts): Code.Done (1) escalated · Code.NotFound (-1) no such approval ·
    Code.NotPending (-2) no longer pending · Code.TierFired (-9) this tier already fired
]]
-- @include "../../lua/codes.lua"
local state = redis.call("HGET", KEYS[1], "state")
if not state then
  return Code.NotFound
end
if state ~= "pending" then
  return Code.NotPending
end
local tier = tonumber(ARGV[2])
if tonumber(redis.call("HGET", KEYS[1], "tier") or "0") >= tier then
  return Code.TierFired
end
redis.call("HSET", KEYS[1], "tier", ARGV[2])
for i = 6, #ARGV do
  redis.call("SADD", KEYS[2], ARGV[i])
end
local ttl = redis.call("PTTL", KEYS[1])
if ttl > 0 then
  redis.call("PEXPIRE", KEYS[2], ttl)
end
redis.call("XADD", KEYS[3], "MAXLEN", "~", ARGV[4], "*", "type", "approval.escalated", "id", ARGV[1], "at", ARGV[3], "data", ARGV[5])
return Code.Done
