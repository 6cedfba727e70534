--[[
  Take a free leader lease and hand out the next fencing token.
  KEYS[1] lease key   {p}:leader:<name>
  KEYS[2] fence key   {p}:leader:<name>:fence
  ARGV[1] holder token
  ARGV[2] ttl ms
  Returns: the fencing token (> 0) when acquired · 0 someone else holds it
]]
if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then
  return redis.call("INCR", KEYS[2])
end
return 0
