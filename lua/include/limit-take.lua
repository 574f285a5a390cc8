-- The take half of a cluster-wide limit (docs/limits.md, "The take"): used by fetch-limited,
-- claim-limited and ack-limited's refill. Needs the identity, limit-key, limit-release and
-- redis-time includes before it.
-- limit_ctx(prefix, q, queue, inprogress, node_key, paused, spec, now) -> L, the call's state
-- (now: Redis ms, read with TIME when not given).
-- limit_open(L) -> 1 ok, 0 queue paused, -1 fenced (the node's heartbeat key is gone), or
-- { err } when a key the take writes has another type (nothing written).
-- limit_sort(L, out, raw): one job from the queue's fetch end (or the node's claim list) is
-- taken (moved into the in-progress list, its slot acquired, its start logged) when its key has
-- a free slot, rate room and no parked jobs ahead of it; else parked at the newest end of the
-- key's parked list, once. A payload that is not a JSON object is taken without a slot.
-- limit_take(L, out, want, max_bytes): serves due keys from the ready set first (their oldest
-- parked jobs), then sorts jobs from the queue until `want` are taken, their bytes reach
-- max_bytes (at least one is taken), the queue is empty, or spec.P jobs were parked.
-- The invariant every step keeps (the property tests check it): a key with parked jobs is in the
-- ready set or has no free slot, so a release, a reopening rate window or the audit serves it.
local function limit_ctx(prefix, q, queue, inprogress, node_key, paused, spec, now)
  local base = prefix .. 'verk:limit:' .. q .. ':'
  return {
    prefix = prefix, q = q, queue = queue, inprogress = inprogress, node_key = node_key, paused = paused,
    slots = node_key .. ':slots', base = base, held = base .. 'held', ready = base .. 'ready', keys = base .. 'keys',
    spec = spec, now = now or now_ms(), got = 0, bytes = 0, parked = 0, typed = {},
  }
end

local function limit_open(L)
  if redis.call('EXISTS', L.node_key) == 0 then return -1 end
  if redis.call('SISMEMBER', L.paused, L.q) == 1 then return 0 end
  local checks = limit_release_checks(L.prefix, L.q, L.slots, { { L.inprogress, 'list' }, { L.queue, 'list' }, { L.keys, 'set' } })
  local wrong = first_wrong_type(checks)
  if wrong then return { 'WRONGTYPE ' .. wrong .. ' has another type than a limit expects; nothing was moved' } end
  return 1
end

-- A key's parked list and rate log (the log only with a rate), type-checked once per call: the
-- job they concern is not sorted when one has another type.
local function limit_keys_of(L, key)
  local parked, rate = L.base .. 'parked:' .. key, L.base .. 'rate:' .. key
  if not L.typed[key] then
    local checks = { { parked, 'list' } }
    if L.spec.r > 0 then table.insert(checks, { rate, 'zset' }) end
    local wrong = first_wrong_type(checks)
    if wrong then return nil, wrong end
    L.typed[key] = true
  end
  return parked, rate
end

-- 'ok', 'full' (no free slot) or the time (ms) the rate window lets the key start again.
local function limit_room(L, key, rate)
  local s = L.spec
  if s.c > 0 and (tonumber(redis.call('HGET', L.held, key)) or 0) >= s.c then return 'full' end
  if s.r > 0 then
    redis.call('ZREMRANGEBYSCORE', rate, '-inf', L.now - s.w)
    local n = redis.call('ZCARD', rate)
    if n >= s.r then return tonumber(redis.call('ZRANGE', rate, 0, 0, 'WITHSCORES')[2]) + s.w end
  end
  return 'ok'
end

local function limit_acquire(L, out, raw, id, key, rate)
  redis.call('LPUSH', L.inprogress, raw)
  if key then
    redis.call('HINCRBY', L.held, key, 1)
    local field = L.q .. '\t' .. id
    -- A second job of one identity on this node: its key is joined to the record's.
    if redis.call('HSETNX', L.slots, field, key) == 0 then redis.call('HSET', L.slots, field, redis.call('HGET', L.slots, field) .. '\t' .. key) end
    if L.spec.r > 0 then
      -- Members are unique: the start time, the job and the log's size (one more per start within the ms).
      redis.call('ZADD', rate, L.now, L.now .. ':' .. id .. ':' .. redis.call('ZCARD', rate))
      redis.call('PEXPIRE', rate, L.spec.w)
    end
  end
  table.insert(out, raw)
  L.got, L.bytes = L.got + 1, L.bytes + #raw
end

-- Parks behind a key's earlier jobs, keeping the invariant above (the key is due when it has room).
local function limit_park(L, raw, key, parked, rate, room)
  redis.call('LPUSH', parked, raw)
  redis.call('SADD', L.keys, key)
  L.parked = L.parked + 1
  if room == 'behind' then
    if redis.call('ZSCORE', L.ready, key) then return end
    room = limit_room(L, key, rate)
    if room == 'ok' then room = L.now end
  end
  if room ~= 'full' then redis.call('ZADD', L.ready, room, key) end
end

local function limit_sort(L, out, raw)
  local job, id = decode_payload(raw)
  if not job then return limit_acquire(L, out, raw, id, nil, nil) end
  local key = limit_key(job, L.spec)
  local parked, rate = limit_keys_of(L, key)
  if not parked then return rate end
  local room = 'behind'
  if redis.call('LLEN', parked) == 0 then room = limit_room(L, key, rate) end
  if room == 'ok' then return limit_acquire(L, out, raw, id, key, rate) end
  limit_park(L, raw, key, parked, rate, room)
end

-- The oldest parked jobs of keys that are due, while they have room.
local function limit_serve(L, out, want, max_bytes)
  local due = redis.call('ZRANGEBYSCORE', L.ready, '-inf', L.now, 'LIMIT', 0, L.spec.R)
  for _, key in ipairs(due) do
    if L.got >= want or (L.got > 0 and L.bytes >= max_bytes) then return end
    local parked, rate = limit_keys_of(L, key)
    if not parked then return rate end
    while L.got < want and not (L.got > 0 and L.bytes >= max_bytes) do
      local room = limit_room(L, key, rate)
      if room == 'full' then
        redis.call('ZREM', L.ready, key)
        break
      elseif room ~= 'ok' then
        redis.call('ZADD', L.ready, room, key)
        break
      end
      local raw = redis.call('RPOP', parked)
      if not raw then break end
      local _, id = decode_payload(raw)
      limit_acquire(L, out, raw, id, key, rate)
    end
    if redis.call('LLEN', parked) == 0 then
      redis.call('ZREM', L.ready, key)
      redis.call('SREM', L.keys, key)
    end
  end
end

-- Returns nil, or the name of a key of another type (the job it concerned is back at the fetch end).
-- limit_failed(L, wrong) -> the error reply for it when the call has taken no job yet (nothing a
-- worker must learn of was written), else nil: the caller returns what it took, and the next call
-- meets the key first and errs with nothing taken.
local function limit_failed(L, wrong)
  if L.got > 0 then return nil end
  return redis.error_reply('WRONGTYPE ' .. wrong .. ' has another type than a limit expects (the job stays in the queue)')
end

local function limit_take(L, out, want, max_bytes)
  local wrong = limit_serve(L, out, want, max_bytes)
  if wrong then return wrong end
  while L.got < want and not (L.got > 0 and L.bytes >= max_bytes) and L.parked < L.spec.P do
    local raw = redis.call('RPOP', L.queue)
    if not raw then return nil end
    wrong = limit_sort(L, out, raw)
    if wrong then
      redis.call('RPUSH', L.queue, raw)
      return wrong
    end
  end
  return nil
end

-- The reply's tail: 1 when the call stopped with jobs left to sort (call again at once), and the
-- ms until the next rate-blocked key reopens (-1: none is waiting on its window).
local function limit_outlook(L)
  local more = (L.parked >= L.spec.P and redis.call('LLEN', L.queue) > 0) and 1 or 0
  local next = redis.call('ZRANGE', L.ready, 0, 0, 'WITHSCORES')
  local wait = -1
  if next[2] then wait = math.max(0, tonumber(next[2]) - L.now) end
  return more, wait
end
