--[[
  Compare-and-set one message ref of an approval, only while the approval is pending. Every post
  starts with this (its posting intent), so each message that can ever reach a channel has an
  entry in the refs hash written before the approval ended: the update job, which reads the hash
  after the end, sees every one of them. Also keeps a second copy's ref only while pending (after
  the end, whoever posted it edits it).
  KEYS[1] approval hash   {p}:approval:<id>
  KEYS[2] refs hash       {p}:approval:<id>:refs   ref key → JSON entry (queue/refEntry.ts)
  ARGV[1] ref key         "<channel>|<target>|<tier>"
  ARGV[2] expected entry, exactly as read; "" = no entry yet
  ARGV[3] new entry
  ARGV[4] ttl ms of the refs hash (approvals.keepFor)
  Returns (codes: src/lua/codes.ts): Code.Done (1) set · Code.Conflict (0) the entry is not the
    expected one · Code.NotPending (-2) the approval is no longer pending (or gone)
    (nothing changed unless Code.Done)
]]
-- @include "../../lua/codes.lua"
if redis.call("HGET", KEYS[1], "state") ~= "pending" then
  return Code.NotPending
end
local current = redis.call("HGET", KEYS[2], ARGV[1])
if ARGV[2] == "" then
  if current then
    return Code.Conflict
  end
elseif current ~= ARGV[2] then
  return Code.Conflict
end
redis.call("HSET", KEYS[2], ARGV[1], ARGV[3])
redis.call("PEXPIRE", KEYS[2], ARGV[4])
return Code.Done
