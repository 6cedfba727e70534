--[[
  Append one audit entry whose hash the client computed, but only if the chain head is still
  the one it hashed against (compare-and-set). Hashing in the client keeps the HMAC key out of
  Redis entirely: nothing secret is ever an argument here, so MONITOR and SLOWLOG see none.
  On a lost race the script answers with the current head, so the client can rehash and retry
  without another round trip.
  KEYS[1] audit stream  {p}:audit         entries at id 0-<seq>: ts, hash, entry (seq is the id and prev
                                           the previous entry's hash, so neither is stored again;
                                           entries written by earlier versions also hold seq and prev)
  KEYS[2] chain head    {p}:audit:head    hash { seq, hash } of the newest entry
  KEYS[3] dedupe index  {p}:audit:dedupe  zset: member = dedupe key, score = seq it appended
  ARGV[1] expected head seq, "0" for an empty log
  ARGV[2] expected head hash = the new entry's prev (forty 0s for an empty log)
  ARGV[3] timestamp (ms since epoch, decimal digits), exactly as hashed
  ARGV[4] entry: canonical JSON of the event, exactly as hashed
  ARGV[5] hash of the new entry, 40 lowercase hex
  ARGV[6] dedupe key; empty = none
  ARGV[7] dedupe window (ms): index members whose entry is older than ARGV[3] - window are dropped
  Returns (codes: src/lua/codes.ts):
    { Code.Done (1), seq, hash }       appended
    { Code.Duplicate (2), seq, hash }  the dedupe key was used before: its entry; nothing appended
    { Code.Conflict (0), seq, hash }   the head moved (seq 0 = empty log): rehash against it and retry
    { Code.AuditHeadBroken (-10) }     the head is missing or malformed while the stream has entries
    { Code.AuditSeqTaken (-11) }       the stream already holds an entry at the next seq (head rolled back or forged entry)
    { Code.BadArgument (-12) }         malformed argument
    { Code.AuditEntryGone (-13), seq } the dedupe key names entry seq, which is no longer in the stream
]]
-- @include "../../lua/codes.lua"

local GENESIS = "0000000000000000000000000000000000000000"
-- Each append drops at most this many expired index members; one append adds at most one,
-- so the index shrinks back to the window while every call stays short.
local TRIM_BATCH = 10

local expectedSeq, expectedHash, ts, entry, hash, dedupeKey = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local window = tonumber(ARGV[7])
if not (string.match(expectedSeq, "^%d+$") and string.match(ts, "^%d+$") and #ts <= 15
    and string.match(hash, "^%x+$") and #hash == 40 and window) then
  return { Code.BadArgument }
end

-- hash and ts of entry seq, or nil when it is not in the stream
local function storedEntry(seq)
  local id = "0-" .. string.format("%d", seq)
  local found = redis.call("XRANGE", KEYS[1], id, id)
  if #found == 0 then
    return nil, nil
  end
  local fields, h, t = found[1][2], nil, nil
  for i = 1, #fields, 2 do
    if fields[i] == "hash" then
      h = fields[i + 1]
    elseif fields[i] == "ts" then
      t = fields[i + 1]
    end
  end
  return h, t
end

-- Before the head check: a redelivered event must find its entry however far the head moved since.
if dedupeKey ~= "" then
  local seen = redis.call("ZSCORE", KEYS[3], dedupeKey)
  if seen then
    local seenSeq = tonumber(seen)
    local seenHash = storedEntry(seenSeq)
    if not seenHash then
      return { Code.AuditEntryGone, seenSeq }
    end
    return { Code.Duplicate, seenSeq, seenHash }
  end
end

local head = redis.call("HMGET", KEYS[2], "seq", "hash")
local headSeq, headHash
if head[1] or head[2] then
  if not (head[1] and head[2] and string.match(head[1], "^%d+$") and string.match(head[2], "^%x+$") and #head[2] == 40) then
    return { Code.AuditHeadBroken }
  end
  headSeq, headHash = tonumber(head[1]), head[2]
else
  if redis.call("XLEN", KEYS[1]) > 0 then
    return { Code.AuditHeadBroken }
  end
  headSeq, headHash = 0, GENESIS
end

if headSeq ~= tonumber(expectedSeq) or headHash ~= expectedHash then
  return { Code.Conflict, headSeq, headHash }
end

local seq = headSeq + 1
-- %d, not tostring: tostring switches to exponent notation for large numbers.
local seqText = string.format("%d", seq)
-- Explicit ids make seq addressable (XRANGE from 0-<seq>) and mean nothing can be slipped in
-- between two entries: XADD refuses any id at or below the stream's last id, even a deleted one.
local added = redis.pcall("XADD", KEYS[1], "0-" .. seqText, "ts", ts, "hash", hash, "entry", entry)
if type(added) == "table" and added.err then
  if string.find(added.err, "equal or smaller", 1, true) then
    return { Code.AuditSeqTaken }
  end
  return added
end
redis.call("HSET", KEYS[2], "seq", seqText, "hash", hash)

if dedupeKey ~= "" then
  redis.call("ZADD", KEYS[3], seq, dedupeKey)
end
-- Scored by seq rather than time, so each member costs one small number; its age is the ts
-- of the entry it names. Seq order is append order, so the oldest members expire first.
local cutoff = tonumber(ts) - window
for _ = 1, TRIM_BATCH do
  local oldest = redis.call("ZRANGE", KEYS[3], 0, 0, "WITHSCORES")
  if #oldest == 0 then
    break
  end
  local _, oldTs = storedEntry(tonumber(oldest[2]))
  if oldTs and tonumber(oldTs) >= cutoff then
    break
  end
  redis.call("ZREM", KEYS[3], oldest[1])
end

return { Code.Done, seq, hash }
