--[[
  Renew (or release) a leader lease held by this process; a lease taken over by someone else
  is never touched.
  KEYS[1] lease key   {p}:leader:<name>        value: holder token
  KEYS[2] fence key   {p}:leader:<name>:fence  counter, bumped on every new leader
  ARGV[1] holder token
  ARGV[2] ttl ms; 0 = release
  ARGV[3] fencing token the holder was given
  Returns: 1 still leader (renewed or released) · 0 not the holder (or the fence moved on)
]]
if redis.call("GET", KEYS[1]) ~= ARGV[1] then
  return 0
end
if redis.call("GET", KEYS[2]) ~= ARGV[3] then
  return 0
end
if ARGV[2] == "0" then
  redis.call("DEL", KEYS[1])
else
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 1
