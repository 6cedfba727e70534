--[[
  A BullMQ queue's lag, for /metrics: how many jobs wait and when the oldest unfinished one
  was queued (a job's `timestamp` is set once, when it is added; retries and rate-limit waits
  keep it). Read-only.
  KEYS[1] wait list          {p}:q:<queue>:wait         (new jobs pushed left, taken from the right)
  KEYS[2] prioritized zset   {p}:q:<queue>:prioritized
  KEYS[3] active list        {p}:q:<queue>:active
  KEYS[4] delayed zset       {p}:q:<queue>:delayed
  ARGV[1] job key prefix     "{p}:q:<queue>:"
  ARGV[2] "1": delayed jobs are waiting too (a channel's jobs parked for a rate limit or backing
          off after a failure) · "0": they are timers (escalation steps), not lag
  ARGV[3] at most this many jobs of each set are read for the oldest
  Returns data: { waiting, active, delayed, oldest timestamp ms (0 = nothing unfinished) }
]]
local cap = tonumber(ARGV[3])
local oldest = 0
local function consider(ids)
  for _, id in ipairs(ids) do
    local ts = tonumber(redis.call("HGET", ARGV[1] .. id, "timestamp") or "")
    if ts and (oldest == 0 or ts < oldest) then
      oldest = ts
    end
  end
end

local wait = redis.call("LLEN", KEYS[1])
local prioritized = redis.call("ZCARD", KEYS[2])
local active = redis.call("LLEN", KEYS[3])
local delayed = redis.call("ZCARD", KEYS[4])

consider(redis.call("LRANGE", KEYS[1], -cap, -1))
consider(redis.call("ZRANGE", KEYS[2], 0, cap - 1))
consider(redis.call("LRANGE", KEYS[3], 0, cap - 1))
local waiting = wait + prioritized
if ARGV[2] == "1" then
  consider(redis.call("ZRANGE", KEYS[4], 0, cap - 1))
  waiting = waiting + delayed
end
return { waiting, active, delayed, oldest }
