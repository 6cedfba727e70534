--[[
  Compare-and-set the signed runtime rules snapshot (`clawgate policy set|unset`, allow-always),
  keep it in a short history, and tell every gateway. The snapshot is signed in Node by serve;
  this script only makes sure two writers never overwrite each other's change.
  KEYS[1] snapshot        {p}:rules           (JSON text)
  KEYS[2] history list    {p}:rules:history   (newest first)
  ARGV[1] expected current text, exactly as read; "" = no snapshot yet
  ARGV[2] new snapshot text
  ARGV[3] rules-changed pub/sub channel
  ARGV[4] history length kept
  Returns (codes: src/lua/codes.ts): Code.Done (1) written · Code.Conflict (0) someone else
    changed the snapshot first (nothing changed)
]]
-- @include "../../lua/codes.lua"
local current = redis.call("GET", KEYS[1])
if ARGV[1] == "" then
  if current then
    return Code.Conflict
  end
elseif current ~= ARGV[1] then
  return Code.Conflict
end
redis.call("SET", KEYS[1], ARGV[2])
redis.call("LPUSH", KEYS[2], ARGV[2])
redis.call("LTRIM", KEYS[2], 0, tonumber(ARGV[4]) - 1)
redis.call("PUBLISH", ARGV[3], "rules")
return Code.Done
