--[[
  Pace one provider call (a post, an edit) the way the provider limits it: a GCRA bucket per
  key allows `burst` calls at once and then one per `interval`. Every serve replica shares the
  bucket, so the pace holds however many replicas post. A refused call takes nothing.
  Edits go first: while an edit of this channel waits for its bucket, the channel's posts wait
  too, so a channel never shows more cards than it can close.
  KEYS[1] bucket        {p}:pace:<channel>:<bucket>:<key>   string: theoretical arrival time (ms)
  KEYS[2] edits mark    {p}:pace:<channel>:edits            exists while an edit waits
  KEYS[3] channel pause {p}:pace:<channel>:pause            exists while the provider paused the whole channel
  ARGV[1] interval (ms)
  ARGV[2] burst (>= 1)
  ARGV[3] mode: "post" | "edit" take a token · "penalize" the provider said wait ARGV[4] ms for
          this key · "pause" it said so for the whole channel
  ARGV[4] penalize / pause: ms to wait
  ARGV[5] penalize: "edit" when the key is an edit bucket (its edits wait, so posts wait too)
  Time is Redis's own (TIME), so replicas with skewed clocks share one pace.
  Returns data: 0 taken (or penalty recorded) · n > 0 ms to wait before asking again (nothing taken)
]]
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local mode = ARGV[3]

if mode == "pause" then
  local ms = tonumber(ARGV[4])
  if redis.call("PTTL", KEYS[3]) < ms then
    redis.call("SET", KEYS[3], "1", "PX", ms)
  end
  return 0
end

local tat = tonumber(redis.call("GET", KEYS[1]) or "0") or 0
if tat < now then
  tat = now
end

if mode == "penalize" then
  -- No call conforms before now + wait; afterwards the bucket starts from a single token.
  local until_ = now + tonumber(ARGV[4]) + (burst - 1) * interval
  if until_ > tat then
    redis.call("SET", KEYS[1], until_, "PX", math.ceil(until_ - now) + interval)
  end
  if ARGV[5] == "edit" then
    local mark = tonumber(ARGV[4]) + 250
    if redis.call("PTTL", KEYS[2]) < mark then
      redis.call("SET", KEYS[2], "1", "PX", mark)
    end
  end
  return 0
end

local paused = redis.call("PTTL", KEYS[3])
if paused > 0 then
  return paused
end

if mode == "post" then
  local editing = redis.call("PTTL", KEYS[2])
  if editing > 0 then
    return editing
  end
end

local allowAt = tat - (burst - 1) * interval
if now < allowAt then
  local wait = math.ceil(allowAt - now)
  if mode == "edit" then
    -- Posts hold back until shortly after this edit's turn.
    local mark = wait + 250
    if redis.call("PTTL", KEYS[2]) < mark then
      redis.call("SET", KEYS[2], "1", "PX", mark)
    end
  end
  return wait
end

local nextTat = tat + interval
redis.call("SET", KEYS[1], nextTat, "PX", math.ceil(nextTat - now) + interval)
return 0
