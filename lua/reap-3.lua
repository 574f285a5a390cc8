-- reap: hands a dead node's in-progress jobs back to the front of their queues and
-- deregisters it, atomically per batch (DESIGN §4 step 4). Only acts while the node's
-- heartbeat key is absent (unless forced by the node's own supervisor, which saw it die).
-- The first batch moves the node from verk_nodes to verk:reaping, so neither its heartbeat nor
-- its fetch can bring it back while later batches run. Any number of reapers may race: each
-- job is moved by exactly one batch. A job recovered more than max times goes to `dead`.
-- KEYS[1] verk_nodes
-- KEYS[2] verk:reaping     nodes whose reaping has started
-- KEYS[3] dead
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
-- ARGV[11] "1" = count recoveries (0 for a graceful hand-back)
-- ARGV[12] from this many recoveries on, a requeued job gets "verk_recovered": n so workers
--          run it alone (a poison pill then stops taking its neighbours down with it)
-- Returns { status, moved, buried, remaining } with status "alive", "gone" or "reaped".
-- @include json-fields
local prefix, node = ARGV[1], ARGV[2]
local node_key = prefix .. 'verk:node:' .. node
if ARGV[6] ~= '1' and redis.call('EXISTS', node_key) == 1 then
  return { 'alive', 0, 0, 0, 0 }
end
local queues_key = node_key .. ':queues'
local registered = redis.call('SREM', KEYS[1], node) == 1
if registered then redis.call('SADD', KEYS[2], node) end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local budget = tonumber(ARGV[3])
local max_rec = tonumber(ARGV[4])
local count_recoveries = ARGV[11] == '1'
local isolate_from = tonumber(ARGV[12])
local moved, buried, remaining = 0, 0, 0
local event_jobs, event_dead, event_queues = {}, {}, {}

for _, q in ipairs(redis.call('SMEMBERS', queues_key)) do
  local list = prefix .. 'inprogress:' .. q .. ':' .. node
  local queue = prefix .. 'queue:' .. q
  if budget > 0 then
    local items = redis.call('LRANGE', list, 0, budget - 1)
    if #items > 0 then
      redis.call('LTRIM', list, #items, -1)
      budget = budget - #items
      local back = {}
      for _, raw in ipairs(items) do
        local ok, job = pcall(cjson.decode, raw)
        local jid = (ok and type(job) == 'table' and job.jid) and tostring(job.jid) or redis.sha1hex(raw)
        local n = 0
        if count_recoveries then
          local rkey = prefix .. 'verk:recovered:' .. jid
          n = redis.call('INCR', rkey)
          redis.call('PEXPIRE', rkey, ARGV[5])
        end
        if count_recoveries and n > max_rec and ok and type(job) == 'table' then
          local msg = 'recovered ' .. n .. ' times from nodes that died while running it (maxRecoveries ' .. max_rec .. '); last from node ' .. node
          local fields = {
            { 'error_message', cjson.encode(msg) },
            { 'error_class', '"Verk::PoisonPill"' },
            { 'recovered_count', tostring(n) },
          }
          if type(job.failed_at) == 'number' then
            table.insert(fields, { 'retried_at', string.format('%.6f', now) })
          else
            table.insert(fields, { 'failed_at', string.format('%.6f', now) })
          end
          redis.call('ZADD', KEYS[3], now, set_fields(raw, fields))
          table.insert(event_dead, jid)
          buried = buried + 1
        else
          if count_recoveries and n >= isolate_from and ok and type(job) == 'table' then
            raw = set_fields(raw, { { 'verk_recovered', tostring(n) } })
          end
          table.insert(back, raw)
          if #event_jobs < 100 then table.insert(event_jobs, jid) end
        end
      end
      for i = 1, #back, 1000 do
        redis.call('RPUSH', queue, unpack(back, i, math.min(i + 999, #back)))
      end
      moved = moved + #back
      event_queues[q] = #items
    end
  end
  remaining = remaining + redis.call('LLEN', list)
end

if buried > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now - tonumber(ARGV[9])))
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[10]) + 1))
end
if moved + buried > 0 and count_recoveries and tonumber(ARGV[8]) > 0 then
  local history = prefix .. 'verk:recoveries'
  redis.call('LPUSH', history, cjson.encode({
    at = now, by = ARGV[7], node = node, moved = moved, dead = buried,
    queues = event_queues, jids = event_jobs, dead_jids = event_dead,
  }))
  redis.call('LTRIM', history, 0, tonumber(ARGV[8]) - 1)
end
if remaining == 0 then
  redis.call('DEL', node_key, queues_key, node_key .. ':info', node_key .. ':running')
  redis.call('SREM', KEYS[1], node)
  redis.call('SREM', KEYS[2], node)
  return { 'reaped', moved, buried, 0, 0 }
end
return { registered and 'reaped' or 'gone', moved, buried, remaining, 0 }
