-- requeue: moves one entry of `retry`, `dead` or `schedule` back to its queue (admin command
-- `verk retry|dead requeue`). The caller prepared the queue payload (fresh enqueued_at, other
-- bytes untouched). Idempotent: the job is pushed only if the entry is still there, so two
-- admins requeueing the same jid at once, or a scheduler promoting it meanwhile, move it once.
-- Writes the queue first and removes the entry last. Builds no key from a prefix.
-- KEYS[1] retry, dead or schedule (sorted set)
-- KEYS[2] queue:<q>
-- KEYS[3] queues (set of queue names)
-- ARGV[1] member exactly as read from KEYS[1]
-- ARGV[2] payload to push
-- ARGV[3] queue name
-- Returns 1 when moved, 0 when the entry was no longer there, or { 'wrongtype', key }
-- (nothing written) when a key has another type than expected.
-- @include key-types
local wrong = first_wrong_type({ { KEYS[1], 'zset' }, { KEYS[2], 'list' }, { KEYS[3], 'set' } })
if wrong then return { 'wrongtype', wrong } end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
