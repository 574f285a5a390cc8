-- requeue: moves one entry of `retry`, `dead` or `schedule` back to its queue (admin command
-- `verk retry|dead requeue`). The caller prepared the queue payload (fresh enqueued_at, other
-- bytes untouched). Idempotent: the job is pushed only if the entry is still there, so two
-- admins requeueing the same jid at once, or a scheduler promoting it meanwhile, move it once.
-- Writes the queue first and removes the entry last. With ARGV[4] (only sent for a payload
-- that carries "verk_unique", not a ttl lock), the job must own its unique lock: it takes it when
-- free (a job back from dead), keeps it when it is its own, and is refused, nothing written, when
-- another job holds it (docs/unique-jobs.md).
-- Built from the prefix ARGV[4] (optional): <prefix>verk:unique:<key>, <prefix>verk:uniques,
-- <prefix>verk:uniques:info.
-- KEYS[1] retry, dead or schedule (sorted set)
-- KEYS[2] queue:<q>
-- KEYS[3] queues (set of queue names)
-- ARGV[1] member exactly as read from KEYS[1]
-- ARGV[2] payload to push
-- ARGV[3] queue name
-- ARGV[4] optional: key prefix of the job's unique lock
-- ARGV[5] optional: the unique key
-- ARGV[6] optional: the job's jid
-- ARGV[7] optional: until ("done" or "started")
-- Returns 1 when moved, 0 when the entry was no longer there, { 'locked', holder jid } when
-- another job holds its unique lock, or { 'wrongtype', key }
-- (nothing written) when a key has another type than expected.
-- @include key-types
-- @include redis-time
-- @include unique-lock
local wrong = first_wrong_type({ { KEYS[1], 'zset' }, { KEYS[2], 'list' }, { KEYS[3], 'set' } })
if wrong then return { 'wrongtype', wrong } end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
if ARGV[6] then
  local info = cjson.encode({ jid = ARGV[6], since = now_ms(), queue = ARGV[3], ['until'] = ARGV[7] })
  local holder = unique_take(ARGV[4], ARGV[5], ARGV[6], info, 0, now_ms())
  if holder ~= ARGV[6] then return { 'locked', holder } end
end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
