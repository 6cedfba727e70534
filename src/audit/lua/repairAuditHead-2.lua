--[[
  Point the audit head back at the last entry of the stream, once `clawgate audit repair` has
  verified every entry up to it (in Node, with the HMAC key), and record the repair as the next
  entry in the same step, so the repair is on the record before anything else is appended.
  The head is only a pointer to the newest entry: no existing entry is touched. This runs only
  if nothing changed since the verification: the head still reads as it did, and the stream
  still ends at that entry with that hash.
  KEYS[1] audit stream  {p}:audit
  KEYS[2] chain head    {p}:audit:head
  ARGV[1] head seq as read ("" = missing)
  ARGV[2] head hash as read ("" = missing)
  ARGV[3] seq of the stream's last entry, verified
  ARGV[4] that entry's hash
  ARGV[5] the repair record's timestamp (ms), as hashed
  ARGV[6] the repair record: canonical JSON of its event, as hashed
  ARGV[7] the repair record's hash (prev = ARGV[4], seq = ARGV[3] + 1), 40 lowercase hex
  Returns (codes: src/lua/codes.ts):
    Code.Done (1)             repaired: the head names the repair record, appended after that entry
    Code.Conflict (0)         the head changed since it was read
    Code.AuditTailMoved (-14) the stream no longer ends at that entry (or its hash differs)
    Code.AuditSeqTaken (-11)  the stream refuses the next id (entries after that one were deleted)
]]
-- @include "../../lua/codes.lua"
local head = redis.call("HMGET", KEYS[2], "seq", "hash")
if (head[1] or "") ~= ARGV[1] or (head[2] or "") ~= ARGV[2] then
  return Code.Conflict
end
local last = redis.call("XREVRANGE", KEYS[1], "+", "-", "COUNT", 1)
if #last == 0 or last[1][1] ~= "0-" .. ARGV[3] then
  return Code.AuditTailMoved
end
local fields, hash = last[1][2], nil
for i = 1, #fields, 2 do
  if fields[i] == "hash" then
    hash = fields[i + 1]
  end
end
if hash ~= ARGV[4] then
  return Code.AuditTailMoved
end
local seqText = string.format("%d", tonumber(ARGV[3]) + 1)
local added = redis.pcall("XADD", KEYS[1], "0-" .. seqText, "ts", ARGV[5], "hash", ARGV[7], "entry", ARGV[6])
if type(added) == "table" and added.err then
  return Code.AuditSeqTaken
end
-- Anything else a tampered head may hold goes too: the head is { seq, hash } and nothing more.
redis.call("DEL", KEYS[2])
redis.call("HSET", KEYS[2], "seq", seqText, "hash", ARGV[7])
return Code.Done
