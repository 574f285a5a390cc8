-- cron-tick: decides one tick of a periodic job (docs/cron.md), atomically, on Redis's clock.
-- Every supervisor of the fleet calls it for the ticks it finds due; the first call for a tick
-- decides it (fired, skipped with a reason, or missed) and every other call for it, from any
-- node, a resend after a lost reply or a late one, is a no-op ('dup'). The dedupe is the entry's
-- watermark `last_tick`: a tick at or before it is decided, and the watermark never expires nor
-- moves back, so a decided tick can never be decided again (stronger than a SET NX PX, which
-- could expire while a tick may still be called). Deciding, pushing the job and recording it
-- happen in this one script: no crash falls between them. A fire or miss also names the
-- watermark its caller planned from (ARGV[16]); when the entry's watermark is elsewhere (another
-- supervisor decided meanwhile) it is refused as 'stale' and the caller plans again, so the
-- decided ticks follow one another without a hole: every tick after the entry was armed is
-- decided exactly once (the history shows each, a missed run as the range (after, tick]).
-- Modes (ARGV[2]):
--   init  the entry has no state: its watermark starts at Redis's now (no backlog from the past)
--   fire  the tick ARGV[4]: paused -> skipped; overlap says skip -> skipped; else the job is
--         pushed (LPUSH queue + SADD queues, as every enqueue) and recorded
--   miss  ticks no node fired in time and catchUp gives up on: ARGV[5] ticks from ARGV[6] to
--         ARGV[4] recorded as one 'missed' event
--   run   an operator's run now (`verk cron run`): pushed whatever the schedule, pause or overlap
--         say; the watermark does not move; the job becomes the entry's last job; a resend of
--         the same run (its jid is already the last job's) pushes nothing
-- skip-if-running: each job it fires carries the entry's unique lock, cron:<name> (docs/unique-jobs.md:
-- "verk_unique":{"key":"cron:<name>","until":"done"}, taken here with the push), which the scripts
-- that move the job release when it is acked, dead, dropped, killed or deleted (and the sweeper,
-- when the job exists nowhere): while the lock is held the tick is skipped, with no search, whatever
-- the queue's backlog. A last job without the lock (an operator's run while the lock was held, or
-- one fired before the lock existed) is looked for as replace looks: its exact bytes, or the forms
-- the reap gives it ("verk_recovered": 0..ARGV[15] appended), in queue:<q> and in the in-progress
-- and claim lists of every registered or reaping node, comparing at most ARGV[13] elements in all
-- and looking at ARGV[14] nodes at most; when that bound cuts the search short the job may still
-- be there, which counts as running (it never fires while its last job may run).
-- KEYS[1] verk:cron:<name>           hash: last_tick, since, last_jid, last_payload, last_at, last_outcome
-- KEYS[2] verk:cron:<name>:history   list of tick events, newest first (capped at ARGV[12])
-- KEYS[3] verk:cron:paused           set of paused entry names
-- KEYS[4] verk:cron:entries          set of entry names ever seen
-- KEYS[5] queue:<q>                  the entry's queue
-- KEYS[6] queues                     queue names (Sidekiq's registry)
-- KEYS[7] verk_nodes                 registered nodes (read for overlap only)
-- KEYS[8] verk:reaping               nodes being reaped (read for overlap only)
-- Built from the prefix ARGV[1]: read only, for overlap, <prefix>inprogress:<q>:<node> and
-- <prefix>verk:node:<node>:claim:<q> of every node in KEYS[7] and KEYS[8]; for skip-if-running,
-- the lock <prefix>verk:unique:cron:<name> and its index <prefix>verk:uniques, :info.
-- ARGV[1] key prefix
-- ARGV[2] mode: init | fire | miss | run
-- ARGV[3] entry name
-- ARGV[4] tick instant, epoch ms (fire: the tick; miss: the newest missed tick; init/run: 0)
-- ARGV[5] miss: how many ticks were missed
-- ARGV[6] miss: the oldest missed tick, epoch ms
-- ARGV[7] overlap: allow | skip-if-running | replace
-- ARGV[8] queue name
-- ARGV[9] job text up to its jid: {"retry":…,"queue":…,"class":…,"args":[…],"jid":"…" (the
--         script appends created_at, enqueued_at and the "cron" member and closes it)
-- ARGV[10] jid of that job
-- ARGV[11] who calls (supervisor id, or cli) for the history
-- ARGV[12] history length
-- ARGV[13] overlap: elements compared at most
-- ARGV[14] overlap: nodes looked at, at most
-- ARGV[15] overlap: recovered forms looked for ("verk_recovered": 0..n)
-- ARGV[16] fire/miss: the watermark the caller planned from (epoch ms)
-- Returns { outcome, tick, now_ms, detail }: 'fired' (detail: jid; a 5th element 1 when replace
-- removed the last job from its queue), 'skipped' (detail: reason), 'missed' (detail: count),
-- 'init' (detail: since), 'run' (detail: jid), 'dup' (detail: the watermark), 'stale' (detail:
-- the watermark, which is not ARGV[16]: nothing written), 'future' (the tick is after Redis's
-- now: nothing written), or { 'wrongtype', key } (nothing written).
-- @include key-types
-- @include redis-time
-- @include unique-lock
local prefix, mode, name = ARGV[1], ARGV[2], ARGV[3]
local tick = tonumber(ARGV[4])
local hist_len, scan_max, max_nodes, forms_n = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])
if not (tick and hist_len and scan_max and max_nodes and forms_n) then
  return redis.error_reply('cron-tick: a numeric argument is missing')
end
-- The state first: a call for a decided tick (most calls of a fleet) costs TYPE, TIME and HGET.
if first_wrong_type({ { KEYS[1], 'hash' } }) then return { 'wrongtype', KEYS[1] } end
local now = now_ms()
local by = ARGV[11]

local function record(event)
  event.at = now
  event.by = by
  redis.call('SADD', KEYS[4], name)
  redis.call('LPUSH', KEYS[2], cjson.encode(event))
  redis.call('LTRIM', KEYS[2], 0, hist_len - 1)
end

local last = tonumber(redis.call('HGET', KEYS[1], 'last_tick') or '')
if mode == 'init' or (last == nil and mode ~= 'run') then
  -- No state (first start, or the hash was deleted): the entry is armed from now on.
  if last ~= nil then return { 'dup', tick, now, last } end
  local bad = first_wrong_type({ { KEYS[2], 'list' }, { KEYS[4], 'set' } })
  if bad then return { 'wrongtype', bad } end
  redis.call('HSET', KEYS[1], 'last_tick', now, 'since', now)
  record({ outcome = 'armed' })
  return { 'init', tick, now, now }
end

if mode ~= 'run' then
  if tick <= last then return { 'dup', tick, now, last } end
  if tick > now then return { 'future', tick, now, last } end
  if tonumber(ARGV[16]) ~= last then return { 'stale', tick, now, last } end
end
local wrong = first_wrong_type({ { KEYS[2], 'list' }, { KEYS[3], 'set' }, { KEYS[4], 'set' }, { KEYS[5], 'list' }, { KEYS[6], 'set' }, { KEYS[7], 'set' }, { KEYS[8], 'set' } })
if wrong then return { 'wrongtype', wrong } end

if mode == 'miss' then
  local count, from = tonumber(ARGV[5]) or 1, tonumber(ARGV[6]) or tick
  redis.call('HSET', KEYS[1], 'last_tick', tick, 'last_outcome', 'missed')
  record({ outcome = 'missed', tick = tick, after = last, from = from, count = count })
  return { 'missed', tick, now, count }
end

-- Where the entry's last job is: 'queued', 'running' (with the node), 'unknown' (the bound cut
-- the search short), or nil (nowhere: finished, retrying, dead or deleted).
local function find_last(q, whole)
  local prev = redis.call('HGET', KEYS[1], 'last_payload')
  if not prev or prev == '' then return nil end
  local forms = { prev }
  if string.sub(prev, -1) == '}' then
    local open = string.sub(prev, 1, -2) .. ',"verk_recovered":'
    for n = 0, forms_n do table.insert(forms, open .. n .. '}') end
  end
  local budget = scan_max
  local function in_list(key)
    -- A key built from the prefix is not type-checked up front: one of another type is "cannot tell".
    local ty = redis.call('TYPE', key).ok
    if ty == 'none' then return false end
    if ty ~= 'list' then return 'unknown' end
    local len = redis.call('LLEN', key)
    if len == 0 then return false end
    local m = math.min(len, math.floor(budget / #forms))
    if m <= 0 then return 'unknown' end
    budget = budget - m * #forms
    for _, f in ipairs(forms) do
      local at = redis.call('LPOS', key, f, 'MAXLEN', m)
      if at then return true, f end
    end
    if m < len then return 'unknown' end
    return false
  end
  local found, form = in_list(KEYS[5])
  if found == true then return 'queued', nil, form end
  local unknown = found == 'unknown'
  if whole then
    local nodes = redis.call('SMEMBERS', KEYS[7])
    for _, n in ipairs(redis.call('SMEMBERS', KEYS[8])) do table.insert(nodes, n) end
    if #nodes > max_nodes then return 'unknown' end
    for _, n in ipairs(nodes) do
      for _, key in ipairs({ prefix .. 'inprogress:' .. q .. ':' .. n, prefix .. 'verk:node:' .. n .. ':claim:' .. q }) do
        local f = in_list(key)
        if f == true then return 'running', n end
        if f == 'unknown' then unknown = true end
      end
    end
  end
  if unknown then return 'unknown' end
  return nil
end

local q = ARGV[8]
local lock_key = 'cron:' .. name
local lock = prefix .. 'verk:unique:' .. lock_key
-- A run carries a fresh jid: the same jid again is the same call re-sent (ioredis re-sends an
-- unanswered command on its new connection after a lost reply), already enqueued.
if mode == 'run' and redis.call('HGET', KEYS[1], 'last_jid') == ARGV[10] then
  return { 'run', tick, now, ARGV[10] }
end
if mode == 'fire' then
  local skip
  if redis.call('SISMEMBER', KEYS[3], name) == 1 then
    skip = 'paused'
  elseif ARGV[7] == 'skip-if-running' then
    local holder = redis.pcall('GET', lock)
    local prev = redis.call('HGET', KEYS[1], 'last_payload') or ''
    local where, node
    if type(holder) == 'string' then
      where = 'locked'
    elseif type(holder) == 'table' then
      where = 'unknown'
    elseif not string.find(prev, '"verk_unique":', 1, true) then
      where, node = find_last(q, true)
    end
    local jid = redis.call('HGET', KEYS[1], 'last_jid') or '?'
    if where == 'locked' then
      skip = 'previous job ' .. holder .. ' still holds the entry lock ' .. lock_key .. ' (queued, in progress or waiting to retry)'
    elseif where == 'queued' then
      skip = 'previous job ' .. jid .. ' still queued in ' .. q
    elseif where == 'running' then
      skip = 'previous job ' .. jid .. ' still in progress on node ' .. node
    elseif where == 'unknown' then
      skip = 'previous job ' .. jid .. ' may still be queued or in progress (more than ' .. scan_max .. ' list elements or ' .. max_nodes .. ' nodes to look at)'
    end
  end
  if skip then
    redis.call('HSET', KEYS[1], 'last_tick', tick, 'last_outcome', 'skipped')
    record({ outcome = 'skipped', tick = tick, reason = skip })
    return { 'skipped', tick, now, skip }
  end
end

local replaced = 0
if mode == 'fire' and ARGV[7] == 'replace' then
  local where, _, form = find_last(q, false)
  if where == 'queued' then
    replaced = redis.call('LREM', KEYS[5], 1, form)
  end
end

local now_s = string.format('%.3f', now / 1000)
local cron_member
if mode == 'run' then
  cron_member = '{"entry":' .. cjson.encode(name) .. ',"manual":true}'
else
  cron_member = '{"entry":' .. cjson.encode(name) .. ',"tick":' .. string.format('%d', math.floor(tick / 1000)) .. '}'
end
local jid = ARGV[10]
-- skip-if-running: the job takes the entry lock (an operator's run only when it is free).
local locked = ''
if ARGV[7] == 'skip-if-running' and redis.pcall('EXISTS', lock) == 0 then
  local info = cjson.encode({ jid = jid, since = now, queue = q, ['until'] = 'done' })
  local _, taken = unique_take(prefix, lock_key, jid, info, 0, now)
  if taken then locked = ',"verk_unique":{"key":' .. cjson.encode(lock_key) .. ',"until":"done"}' end
end
local payload = ARGV[9] .. ',"created_at":' .. now_s .. ',"enqueued_at":' .. now_s .. ',"cron":' .. cron_member .. locked .. '}'
redis.call('LPUSH', KEYS[5], payload)
redis.call('SADD', KEYS[6], q)
if mode == 'run' then
  redis.call('HSET', KEYS[1], 'last_jid', jid, 'last_payload', payload, 'last_at', now)
  record({ outcome = 'run', jid = jid })
  return { 'run', tick, now, jid }
end
redis.call('HSET', KEYS[1], 'last_tick', tick, 'last_outcome', 'fired', 'last_jid', jid, 'last_payload', payload, 'last_at', now)
local event = { outcome = 'fired', tick = tick, jid = jid, lag_ms = now - tick }
if replaced > 0 then event.replaced = true end
record(event)
return { 'fired', tick, now, jid, replaced }
