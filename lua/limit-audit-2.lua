-- limit-audit: the safety net of cluster-wide limits (docs/limits.md, "Audit"). Recounts each
-- limited queue's held counts from the slot records of the registered nodes (and of nodes being
-- reaped), fixes every count that disagrees, and makes due every key that has parked jobs and a
-- free slot but is not in the ready set (a concurrency raised in the config, a lost entry). With
-- correct scripts it fixes nothing; every fix is returned so the caller logs and counts it.
-- Bounded: reads at most ARGV[2] slot records and keys, else changes nothing and says so.
-- KEYS[1] verk_nodes
-- KEYS[2] verk:reaping
-- Built from the prefix ARGV[1]: <prefix>verk:node:<id>:slots, <prefix>verk:limit:<q>:held,
-- :ready, :keys and :parked:<key>.
-- ARGV[1] key prefix
-- ARGV[2] max slot records and keys read
-- ARGV[3..] pairs: a limited queue's name and its concurrency (0 = none)
-- Returns { 'ok', fix... } where each fix is "<queue>\t<key>\theld\t<was>\t<now>" or
-- "<queue>\t<key>\tready", or { 'too_big', records } (nothing changed).
-- @include redis-time
local prefix, cap = ARGV[1], tonumber(ARGV[2])
local conc, counts = {}, {}
for i = 3, #ARGV, 2 do
  conc[ARGV[i]] = tonumber(ARGV[i + 1]) or 0
  counts[ARGV[i]] = {}
end
local seen, nodes = 0, {}
for _, set in ipairs({ KEYS[1], KEYS[2] }) do
  for _, node in ipairs(redis.call('SMEMBERS', set)) do
    local slots = prefix .. 'verk:node:' .. node .. ':slots'
    -- A node in both sets (registered again while its reaping ran) is counted once.
    if not nodes[node] and redis.call('TYPE', slots).ok == 'hash' then
      nodes[node] = true
      seen = seen + redis.call('HLEN', slots)
      if seen > cap then return { 'too_big', seen } end
      local all = redis.call('HGETALL', slots)
      for i = 1, #all, 2 do
        local q = string.match(all[i], '^([^\t]*)\t')
        local c = q and counts[q]
        if c then
          for key in string.gmatch(all[i + 1], '[^\t]+') do c[key] = (c[key] or 0) + 1 end
        end
      end
    end
  end
end
local out = { 'ok' }
local now = now_ms()
for q, c in pairs(counts) do
  local base = prefix .. 'verk:limit:' .. q .. ':'
  local held = base .. 'held'
  if redis.call('TYPE', held).ok ~= 'hash' then redis.call('DEL', held) end
  local have = redis.call('HGETALL', held)
  seen = seen + #have / 2
  if seen > cap then return { 'too_big', seen } end
  local found = {}
  for i = 1, #have, 2 do
    local key, was = have[i], have[i + 1]
    found[key] = true
    local want = c[key] or 0
    if tostring(want) ~= was then
      if want == 0 then redis.call('HDEL', held, key) else redis.call('HSET', held, key, want) end
      table.insert(out, q .. '\t' .. key .. '\theld\t' .. was .. '\t' .. want)
    end
  end
  for key, want in pairs(c) do
    if not found[key] then
      redis.call('HSET', held, key, want)
      table.insert(out, q .. '\t' .. key .. '\theld\t0\t' .. want)
    end
  end
  local keys = base .. 'keys'
  if redis.call('TYPE', keys).ok == 'set' then
    local members = redis.call('SRANDMEMBER', keys, cap)
    for _, key in ipairs(members) do
      if redis.call('EXISTS', base .. 'parked:' .. key) == 0 then
        redis.call('SREM', keys, key)
      elseif not redis.call('ZSCORE', base .. 'ready', key) and (conc[q] == 0 or (c[key] or 0) < conc[q]) then
        redis.call('ZADD', base .. 'ready', now, key)
        table.insert(out, q .. '\t' .. key .. '\tready')
      end
    end
  end
end
return out
