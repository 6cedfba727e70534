--[[
  Append one entry to the tamper-evident audit chain. Reading the head, hashing, XADD and the
  head update happen in one script, so concurrent appenders (any number of gateways and
  services) can never fork the chain or reuse a seq.
  KEYS[1] audit stream   {p}:audit       entries at id 0-<seq>: seq, ts, prev, hash, entry
  KEYS[2] chain head     {p}:audit:head  hash { seq, hash } of the newest entry
  ARGV[1] entry: canonical JSON of the event, built by the client
  ARGV[2] timestamp (ms since epoch, decimal digits)
  ARGV[3] HMAC key; empty = plain SHA-1 chain
  Returns: { code, seq, hash }
    code  1 appended; seq and hash of the new entry
    code -1 the head is missing or malformed while the stream has entries (tampered with)
    code -2 the stream already holds an entry at the next seq (head rolled back or forged entry)
    code -3 ARGV[2] is not a timestamp
]]
-- @include "includes/hmacSha1.lua"

local GENESIS = "0000000000000000000000000000000000000000"

local ts = ARGV[2]
if not string.match(ts, "^%d+$") then
  return { -3 }
end

local head = redis.call("HMGET", KEYS[2], "seq", "hash")
local seq, prev
if head[1] or head[2] then
  if not (head[1] and head[2] and string.match(head[1], "^%d+$")) then
    return { -1 }
  end
  seq = tonumber(head[1]) + 1
  prev = head[2]
else
  if redis.call("XLEN", KEYS[1]) > 0 then
    return { -1 }
  end
  seq = 1
  prev = GENESIS
end

-- %d, not tostring: tostring switches to exponent notation for large numbers.
local seqText = string.format("%d", seq)
local message = prev .. "\n" .. seqText .. "\n" .. ts .. "\n" .. ARGV[1]
local hash
if ARGV[3] ~= "" then
  hash = hmacSha1Hex(ARGV[3], message)
else
  hash = redis.sha1hex(message)
end

-- Explicit ids make seq addressable (XRANGE from 0-<seq>) and mean nothing can be slipped in
-- between two entries: XADD refuses any id at or below the stream's last id, even a deleted one.
local added = redis.pcall("XADD", KEYS[1], "0-" .. seqText,
  "seq", seqText, "ts", ts, "prev", prev, "hash", hash, "entry", ARGV[1])
if type(added) == "table" and added.err then
  if string.find(added.err, "equal or smaller", 1, true) then
    return { -2 }
  end
  return added
end
redis.call("HSET", KEYS[2], "seq", seqText, "hash", hash)
return { 1, seq, hash }
