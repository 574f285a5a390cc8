-- unique-sweep: releases unique locks whose owner exists nowhere (docs/unique-jobs.md): deleted
-- by something other than verk, run by a Sidekiq process, lost. One bounded pass, decided inside
-- this script so no job can move meanwhile: the oldest locks of <prefix>verk:uniques older than
-- the grace (taken, or last found alive, that long ago) are looked up where their owner can be
-- (lua/include/unique-where.lua); a lock whose owner is found, or cannot be told apart ("unknown":
-- a search past its budget), is kept and looked at again a grace later; a lock whose owner is
-- nowhere is deleted (compare-and-delete) and recorded. A ttl lock is left to expire. An index
-- entry whose lock is gone (expired, released) is cleaned up.
-- Built from the prefix ARGV[1]: <prefix>verk:unique:<key>, <prefix>verk:uniques:released
-- (bounded history, newest first), <prefix>verk:stat:unique_swept (counter), and what
-- lua/include/unique-where.lua reads: <prefix>queue:<q>, <prefix>inprogress:<q>:<node>,
-- <prefix>verk:node:<node>:claim:<q>, <prefix>verk_nodes, <prefix>verk:reaping, <prefix>retry,
-- <prefix>schedule.
-- KEYS[1] verk:uniques       (sorted set: key -> Redis ms taken or last found alive)
-- KEYS[2] verk:uniques:info  (hash: key -> JSON)
-- ARGV[1] key prefix
-- ARGV[2] grace in ms (locks younger than this are not looked at)
-- ARGV[3] locks looked at per call at most
-- ARGV[4] elements searched per call at most (all locks together)
-- ARGV[5] nodes looked at per lock at most
-- ARGV[6] history length (releases kept in verk:uniques:released)
-- ARGV[7] who sweeps (written into the history)
-- ARGV[8] payload bytes read per call at most (all locks together)
-- Returns { looked at, released, kept alive, kept unknown, cleaned, key, jid, key, jid, ... }
-- (the released locks), or { 'wrongtype', key } when the index or info has another type.
-- @include key-types
-- @include redis-time
-- @include unique-lock
-- @include unique-where
local wrong = first_wrong_type({ { KEYS[1], 'zset' }, { KEYS[2], 'hash' } })
if wrong then return { 'wrongtype', wrong } end
local prefix = ARGV[1]
local grace, max_locks, budget, max_nodes, hist = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local byte_budget = tonumber(ARGV[8])
if not (grace and max_locks and budget and max_nodes and hist and byte_budget) then return redis.error_reply('unique-sweep: a numeric argument is missing') end
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - grace, 'LIMIT', 0, max_locks)
local looked, released, alive, unknown, cleaned, out = 0, 0, 0, 0, 0, {}
local history = prefix .. 'verk:uniques:released'
local can_record = first_wrong_type({ { history, 'list' } }) == nil
for _, key in ipairs(due) do
  if budget <= 0 or byte_budget <= 0 then break end
  looked = looked + 1
  local lock = prefix .. 'verk:unique:' .. key
  local t = redis.call('TYPE', lock).ok
  local raw = redis.call('HGET', KEYS[2], key)
  local ok, info = pcall(cjson.decode, raw or '{}')
  if not ok or type(info) ~= 'table' then info = {} end
  if t == 'none' then
    redis.call('ZREM', KEYS[1], key)
    redis.call('HDEL', KEYS[2], key)
    cleaned = cleaned + 1
  elseif t ~= 'string' or info['until'] == 'ttl' then
    -- Not a lock verk wrote, or one that expires by itself: looked at again a grace later.
    redis.call('ZADD', KEYS[1], now, key)
    unknown = unknown + 1
  else
    local jid = redis.call('GET', lock)
    local where, _, spent, read = unique_where(prefix, jid, info, budget, max_nodes, byte_budget)
    budget, byte_budget = budget - spent, byte_budget - read
    if where == nil then
      if unique_release(prefix, key, jid) == 1 then
        released = released + 1
        table.insert(out, key)
        table.insert(out, jid)
        if can_record and hist > 0 then
          redis.call('LPUSH', history, cjson.encode({ at = now, key = key, jid = jid, queue = info.queue, since = info.since, by = ARGV[7] }))
          redis.call('LTRIM', history, 0, hist - 1)
        end
      end
    else
      if where == 'unknown' then unknown = unknown + 1 else alive = alive + 1 end
      redis.call('ZADD', KEYS[1], now, key)
    end
  end
end
if released > 0 then redis.pcall('INCRBY', prefix .. 'verk:stat:unique_swept', released) end
local reply = { looked, released, alive, unknown, cleaned }
for _, v in ipairs(out) do table.insert(reply, v) end
return reply
