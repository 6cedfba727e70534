--[[
  Take a free leader lease and hand out the next fencing token.
  KEYS[1] lease key   {p}:leader:<name>
  KEYS[2] fence key   {p}:leader:<name>:fence
  ARGV[1] holder token
  ARGV[2] ttl ms
  Returns (codes: src/lua/codes.ts): the fencing token (> 0) when acquired ·
    Code.Conflict (0) someone else holds it
]]
-- @include "../../lua/codes.lua"
if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then
  return redis.call("INCR", KEYS[2])
end
return Code.Conflict
