-- first_wrong_type({ {key, type}, ... }): the first key that exists with a type other than
-- the one named ('list', 'zset', 'set', ...), or nil. Scripts check every key they will write
-- before the first write and return { 'wrongtype', key } instead of failing half-way.
local function first_wrong_type(checks)
  for _, c in ipairs(checks) do
    local t = redis.call('TYPE', c[1]).ok
    if t ~= 'none' and t ~= c[2] then return c[1] end
  end
  return nil
end
