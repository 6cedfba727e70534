--[[
  Compare-and-set one message ref of an approval. Two attempts of the same notify job can run at
  once (a worker whose job lock lapsed during a Redis stall keeps going while BullMQ hands the
  job to another), so each step of posting only applies if nobody moved the ref on meanwhile.
  KEYS[1] refs hash   {p}:approval:<id>:refs   ref key → JSON entry (posting intent or posted ref)
  ARGV[1] ref key     "<channel>|<target>|<tier>"
  ARGV[2] expected entry, exactly as read; "" = no entry yet
  ARGV[3] new entry
  ARGV[4] ttl ms of the refs hash (approvals.keepFor)
  Returns (codes: src/lua/codes.ts): Code.Done (1) set · Code.Conflict (0) the entry is not the
    expected one (nothing changed)
]]
-- @include "../../lua/codes.lua"
local current = redis.call("HGET", KEYS[1], ARGV[1])
if ARGV[2] == "" then
  if current then
    return Code.Conflict
  end
elseif current ~= ARGV[2] then
  return Code.Conflict
end
redis.call("HSET", KEYS[1], ARGV[1], ARGV[3])
redis.call("PEXPIRE", KEYS[1], ARGV[4])
return Code.Done
