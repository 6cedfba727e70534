--[[
  Fix an approval's facts, first writer wins. Facts are stored once per distinct content
  ({p}:facts:<digest>, shared by every approval with the same route, chain and recipients) and
  the record points at them with its `facts` field, so a pending approval costs a 16-character
  field instead of its own JSON key.
  KEYS[1] approval hash   {p}:approval:<id>
  KEYS[2] facts body      {p}:facts:<digest>
  ARGV[1] digest          (16 hex characters of SHA-256 over the facts JSON)
  ARGV[2] facts JSON
  ARGV[3] keep ms         how long the body must live at least (the record's deadline plus keepFor)
  Returns: { code, digest }  (codes: src/lua/codes.ts)
    Code.Done (1)       fixed now: the record points at ARGV[1]
    Code.Exists (-3)    already fixed: `digest` is the one the record points at; nothing changed
    Code.NotFound (-1)  no such approval; nothing changed
]]
-- @include "../../lua/codes.lua"
if redis.call("EXISTS", KEYS[1]) == 0 then
  return { Code.NotFound, "" }
end
local current = redis.call("HGET", KEYS[1], "facts")
if current then
  return { Code.Exists, current }
end
redis.call("HSET", KEYS[1], "facts", ARGV[1])
local keep = tonumber(ARGV[3])
if redis.call("PTTL", KEYS[2]) < keep then
  redis.call("SET", KEYS[2], ARGV[2], "PX", keep)
end
return { Code.Done, ARGV[1] }
