--[[
  Renew (or release) a leader lease held by this process; a lease taken over by someone else
  is never touched.
  KEYS[1] lease key   {p}:leader:<name>        value: holder token
  KEYS[2] fence key   {p}:leader:<name>:fence  counter, bumped on every new leader
  ARGV[1] holder token
  ARGV[2] ttl ms; 0 = release
  ARGV[3] fencing token the holder was given
  Returns (codes: src/lua/codes.ts): Code.Done (1) still leader (renewed or released) ·
    Code.Conflict (0) not the holder (or the fence moved on)
]]
-- @include "../../lua/codes.lua"
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return Code.Conflict
end
if redis.call("GET", KEYS[2]) ~= ARGV[3] then
  return Code.Conflict
end
if ARGV[2] == "0" then
  redis.call("DEL", KEYS[1])
else
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return Code.Done
