--[[
  HMAC-SHA1 (RFC 2104) on top of redis.sha1hex, the only hash Redis Lua offers.
  sha1hex returns hex, so the inner digest is turned back into 20 raw bytes before the outer
  hash; hashing the hex text instead would give a value no standard HMAC library reproduces.
  sha1hex is binary-safe (NUL bytes included), which the padded keys rely on.
]]
local function hexToBin(hex)
  return (string.gsub(hex, "%x%x", function(pair)
    return string.char(tonumber(pair, 16))
  end))
end

local function hmacSha1Hex(key, message)
  if #key > 64 then
    key = hexToBin(redis.sha1hex(key))
  end
  local ipad, opad = {}, {}
  for i = 1, 64 do
    local b = string.byte(key, i) or 0
    ipad[i] = string.char(bit.bxor(b, 0x36))
    opad[i] = string.char(bit.bxor(b, 0x5c))
  end
  local inner = hexToBin(redis.sha1hex(table.concat(ipad) .. message))
  return redis.sha1hex(table.concat(opad) .. inner)
end
