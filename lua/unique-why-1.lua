-- unique-why: what `verk unique why <key>` shows (docs/unique-jobs.md): the lock's holder, its
-- info and where the holder is now (lua/include/unique-where.lua). Reads only.
-- Built from the prefix ARGV[1]: <prefix>verk:unique:<key>, <prefix>queue:<q>,
-- <prefix>inprogress:<q>:<node>, <prefix>verk:node:<node>:claim:<q>, <prefix>verk_nodes,
-- <prefix>verk:reaping, <prefix>retry, <prefix>schedule, <prefix>dead.
-- KEYS[1] verk:uniques:info
-- ARGV[1] key prefix
-- ARGV[2] the unique key
-- ARGV[3] elements searched at most
-- ARGV[4] nodes looked at at most
-- ARGV[5] payload bytes read at most
-- Returns { holder or false, info JSON or false, where ('nowhere' when not found, 'dead' when
-- found only in the dead set), node or false, ttl ms (-1 none, -2 no lock), elements searched }.
-- @include unique-where
local lock = ARGV[1] .. 'verk:unique:' .. ARGV[2]
local t = redis.call('TYPE', lock).ok
if t ~= 'string' then return { false, false, 'nowhere', false, -2, 0 } end
local holder = redis.call('GET', lock)
local raw = redis.pcall('HGET', KEYS[1], ARGV[2])
if type(raw) ~= 'string' then raw = false end
local ok, info = pcall(cjson.decode, raw or '{}')
if not ok or type(info) ~= 'table' then info = {} end
local budget, max_nodes, max_bytes = tonumber(ARGV[3]) or 10000, tonumber(ARGV[4]) or 1000, tonumber(ARGV[5]) or 16777216
local where, node, spent, read = unique_where(ARGV[1], holder, info, budget, max_nodes, max_bytes)
if not where then
  where = 'nowhere'
  local dead = ARGV[1] .. 'dead'
  if redis.call('TYPE', dead).ok == 'zset' and redis.call('ZCARD', dead) <= budget - spent and read < max_bytes then
    local needle = '"' .. holder .. '"'
    for pos = 0, redis.call('ZCARD', dead) - 1, 100 do
      for _, e in ipairs(redis.call('ZRANGE', dead, pos, pos + 99)) do
        if string.find(e, needle, 1, true) then where = 'dead' end
      end
    end
  end
end
return { holder, raw, where, node or false, redis.call('PTTL', lock), spent }
