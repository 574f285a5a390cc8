-- reap: hands a dead node's in-progress jobs back to the front of their queues and
-- deregisters it, atomically per batch (docs/reliability.md, "Who owns a job"). Only acts while the node's
-- heartbeat key is absent (unless forced by the node's own supervisor, which saw it die).
-- The first batch moves the node from verk_nodes to verk:reaping, so neither its heartbeat nor
-- its fetch can bring it back while later batches run. Any number of reapers may race: each
-- job is moved by exactly one batch.
-- Poison pills: a job counts a recovery only with evidence that it STARTED on the node (its
-- identity in the node's last `running` snapshot, in verk:node:<id>:started, or in ARGV[13]);
-- counted more than max times it goes to `dead` (JSON objects only). Every requeued JSON
-- object gets "verk_recovered": n (its counted recoveries, possibly 0); other payloads move
-- byte for byte.
-- Order: a read-only plan (decode, counts, edits under pcall), a type check of every key it
-- will write ({ 'wrongtype', ..., key } and nothing written), then the writes: queues and dead
-- first, counters, history, registration, and the trim of the in-progress lists last.
-- KEYS[1] verk_nodes
-- KEYS[2] verk:reaping     nodes whose reaping has started
-- KEYS[3] dead
-- Built from the prefix ARGV[1]: <prefix>verk:node:<id> and its :queues, :info, :running and
-- :started keys, <prefix>inprogress:<q>:<id>, <prefix>verk:node:<id>:claim:<q> (a job the
-- node's idle wait took and had not yet confirmed), <prefix>queue:<q>,
-- <prefix>verk:recovered:<jid>, <prefix>verk:recoveries, <prefix>verk:heartbeats (the
-- reaper's schedule: the node leaves it when fully reaped), <prefix>verk:node:<id>:slots and
-- <prefix>verk:limit:<q>:held|ready (cluster-wide limits: every slot the node held is released
-- by the batch that deregisters it, docs/limits.md), and for a poison pill that carries a
-- unique lock <prefix>verk:unique:<key>, <prefix>verk:uniques, <prefix>verk:uniques:info (the
-- pill's lock is released; a requeued job keeps its lock: docs/unique-jobs.md).
-- ARGV[1] key prefix
-- ARGV[2] node id to reap
-- ARGV[3] batch size (jobs moved by this call at most)
-- ARGV[4] max recoveries per job
-- ARGV[5] recovery window in ms (how long a job's recovery count is remembered)
-- ARGV[6] "1" = force (the caller knows the node is dead; skip the heartbeat check)
-- ARGV[7] id of the reaping node (for the history)
-- ARGV[8] history length (events kept in verk:recoveries)
-- ARGV[9] dead set: max age in seconds
-- ARGV[10] dead set: max entries
-- ARGV[11] "1" = count recoveries (0 for a graceful hand-back: nothing counted or edited)
-- ARGV[12] isolateFrom (workers run a job alone from this many recoveries on; not used here,
--          kept so the positions stay stable)
-- ARGV[13] JSON array of identities the caller knows had started on the node ("[]" = none)
-- ARGV[14] max payload bytes moved by this call (the first job always moves; default 4 MiB)
-- Returns { status, moved, buried, remaining, unstarted } with status "alive", "gone" or
-- "reaped", or { 'wrongtype', 0, 0, remaining, 0, key }.
-- @include identity
-- @include json-fields
-- @include key-types
-- @include redis-time
-- @include unique-lock
-- @include limit-release
local prefix, node = ARGV[1], ARGV[2]
local node_key = prefix .. 'verk:node:' .. node
if ARGV[6] ~= '1' and redis.call('EXISTS', node_key) == 1 then
  return { 'alive', 0, 0, 0, 0 }
end
local budget, max_rec, window = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local hist_len, dead_age, dead_max = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
if not (budget and max_rec and window and hist_len and dead_age and dead_max) or window < 1 then
  return redis.error_reply('reap: a numeric argument is missing or out of range')
end
window = math.floor(window)
local queues_key, info_key, started_key = node_key .. ':queues', node_key .. ':info', node_key .. ':started'
local history = prefix .. 'verk:recoveries'
local count_recoveries = ARGV[11] == '1'
local now = now_s()

-- Plan: reads only ---------------------------------------------------------------------
local lists = {}
local checks = { { KEYS[1], 'set' }, { KEYS[2], 'set' }, { KEYS[3], 'zset' }, { history, 'list' }, { prefix .. 'verk:heartbeats', 'zset' }, { node_key .. ':slots', 'hash' } }
local wrong_queues = first_wrong_type({ { queues_key, 'set' } })
if wrong_queues then return { 'wrongtype', 0, 0, 0, 0, wrong_queues } end
for _, q in ipairs(redis.call('SMEMBERS', queues_key)) do
  local queue = prefix .. 'queue:' .. q
  for _, list in ipairs({ prefix .. 'inprogress:' .. q .. ':' .. node, node_key .. ':claim:' .. q }) do
    table.insert(lists, { q = q, list = list, queue = queue })
    table.insert(checks, { list, 'list' })
  end
  table.insert(checks, { queue, 'list' })
end
local wrong = first_wrong_type(checks)
if wrong then
  local left = 0
  for _, l in ipairs(lists) do
    if redis.call('TYPE', l.list).ok == 'list' then left = left + redis.call('LLEN', l.list) end
  end
  return { 'wrongtype', 0, 0, left, 0, wrong }
end

-- Evidence that a job started on this node (each source read defensively: bad data is no evidence).
local started = {}
local function add_started(v)
  local id = jid_identity(v)
  if id then started[id] = true end
end
if count_recoveries then
  local running = redis.pcall('HGET', info_key, 'running')
  if type(running) == 'string' then
    local ok, list = pcall(cjson.decode, running)
    if ok and type(list) == 'table' then
      for _, e in ipairs(list) do
        if type(e) == 'table' then add_started(e.jid) end
      end
    end
  end
  local members = redis.pcall('SMEMBERS', started_key)
  if type(members) == 'table' and not members.err then
    for _, m in ipairs(members) do add_started(m) end
  end
  local ok, ids = pcall(cjson.decode, ARGV[13] or '[]')
  if ok and type(ids) == 'table' then
    for _, v in ipairs(ids) do add_started(v) end
  end
end

-- The head of a list, at most `n` items and (but for the first item of the call) at most
-- bytes_left bytes, read in chunks of 64 so a list of big payloads is never read whole.
local bytes_left = tonumber(ARGV[14]) or 4194304
local first_item = true
local function take_head(list, n)
  local out, pos = {}, 0
  while #out < n do
    local want = math.min(64, n - #out)
    local chunk = redis.call('LRANGE', list, pos, pos + want - 1)
    for _, raw in ipairs(chunk) do
      if not first_item and #raw > bytes_left then return out end
      first_item = false
      bytes_left = bytes_left - #raw
      table.insert(out, raw)
    end
    if #chunk < want then break end
    pos = pos + #chunk
  end
  return out
end

local counts, counted = {}, {}
local function recoveries(id)
  if counts[id] == nil then
    local n = tonumber(redis.pcall('GET', prefix .. 'verk:recovered:' .. id))
    if not n or n ~= n or n < 0 or n > 1e9 then n = 0 end
    counts[id] = math.floor(n)
  end
  return counts[id]
end

local moved, buried, unstarted, remaining = 0, 0, 0, 0
local pills, event_jobs, event_dead, event_queues = {}, {}, {}, {}
local pill_jobs = {}
for _, l in ipairs(lists) do
  local len = redis.call('LLEN', l.list)
  l.take, l.back = 0, {}
  if budget > 0 and bytes_left > 0 and len > 0 then
    local items = take_head(l.list, budget)
    l.take = #items
    budget = budget - #items
    for _, raw in ipairs(items) do
      local job, id = decode_payload(raw)
      local n = 0
      if count_recoveries then
        n = recoveries(id)
        if started[id] then
          n = n + 1
          counts[id], counted[id] = n, true
        end
      end
      if count_recoveries and started[id] and n > max_rec and job then
        local msg = 'recovered ' .. n .. ' times from nodes that died while running it (maxRecoveries ' .. max_rec .. '); last from node ' .. node
        local fields = {
          { 'error_message', cjson.encode(msg) },
          { 'error_class', '"Verk::PoisonPill"' },
          { 'recovered_count', tostring(n) },
          { type(job.failed_at) == 'number' and 'retried_at' or 'failed_at', string.format('%.6f', now) },
        }
        table.insert(pills, with_fields(raw, fields, job))
        table.insert(pill_jobs, job)
        table.insert(event_dead, id)
      else
        if count_recoveries and job then raw = set_recovered(raw, tostring(n), job) end
        if not (count_recoveries and started[id]) then unstarted = unstarted + 1 end
        table.insert(l.back, raw)
        if #event_jobs < 100 then table.insert(event_jobs, id) end
      end
    end
    moved = moved + #l.back
    event_queues[l.q] = (event_queues[l.q] or 0) + #items
  end
  remaining = remaining + len - l.take
end
buried = #pills
local event
if moved + buried > 0 and count_recoveries and hist_len > 0 then
  event = cjson.encode({
    at = now, by = ARGV[7], node = node, moved = moved, dead = buried, unstarted = unstarted,
    queues = event_queues, jids = event_jobs, dead_jids = event_dead,
  })
end
local registered = redis.call('SISMEMBER', KEYS[1], node) == 1

-- Writes: destinations first, the removal from the in-progress lists last ----------------
for _, l in ipairs(lists) do
  for i = 1, #l.back, 1000 do
    redis.call('RPUSH', l.queue, unpack(l.back, i, math.min(i + 999, #l.back)))
  end
end
if buried > 0 then
  for _, p in ipairs(pills) do redis.call('ZADD', KEYS[3], now, p) end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now - dead_age))
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(dead_max + 1))
  for _, j in ipairs(pill_jobs) do unique_release_job(prefix, j) end
end
for id in pairs(counted) do
  redis.call('SET', prefix .. 'verk:recovered:' .. id, counts[id], 'PX', window)
end
if event then
  redis.call('LPUSH', history, event)
  redis.call('LTRIM', history, 0, hist_len - 1)
end
limit_release_all(prefix, node_key .. ':slots', math.floor(now * 1000))
if registered then
  redis.call('SREM', KEYS[1], node)
  redis.call('SADD', KEYS[2], node)
end
for _, l in ipairs(lists) do
  if l.take > 0 then redis.call('LTRIM', l.list, l.take, -1) end
end
if remaining == 0 then
  redis.call('DEL', node_key, queues_key, info_key, node_key .. ':running', started_key)
  redis.call('SREM', KEYS[1], node)
  redis.call('SREM', KEYS[2], node)
  redis.call('ZREM', prefix .. 'verk:heartbeats', node)
  return { 'reaped', moved, buried, 0, unstarted }
end
return { registered and 'reaped' or 'gone', moved, buried, remaining, unstarted }
