-- now_ms() -> Redis's clock (TIME) in whole epoch milliseconds; now_s() -> in float epoch
-- seconds. Every age and deadline the fleet shares is computed against Redis's clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function now_s()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
