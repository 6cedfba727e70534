--[[
  Create a pending approval.
  KEYS[1] approval hash      {p}:approval:<id>
  KEYS[2] pending zset       {p}:pending      (score: deadline ms)
  KEYS[3] index zset         {p}:approvals    (score: created ms)
  ARGV[1] id
  ARGV[2] deadline (ms)
  ARGV[3] created (ms)
  ARGV[4..] field, value pairs of the record
  Returns: 1 created, 0 an approval with this id already exists (nothing changed)
]]
if redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
local fields = {}
for i = 4, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call("HSET", KEYS[1], "state", "pending", unpack(fields))
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[1])
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
return 1
