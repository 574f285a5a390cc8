-- kill: moves one entry of `retry` or `schedule` to the dead set, as it is (Sidekiq's
-- SortedEntry#kill: `verk retry kill`, `verk schedule kill`, verk web's Kill), and trims the dead
-- set by age and size as a failure's bury does (fail-8). Idempotent: only an entry still in the
-- set moves, so two operators killing the same job at once, or the scheduler promoting it
-- meanwhile, move it at most once. Writes the dead set first and removes the entry last.
-- With ARGV[5] (only sent for a payload that carries "verk_unique"), releases the job's unique
-- lock (compare-and-delete; a ttl lock only expires: docs/unique-jobs.md).
-- Built from the prefix ARGV[5] (optional): <prefix>verk:unique:<key>, <prefix>verk:uniques,
-- <prefix>verk:uniques:info.
-- KEYS[1] retry or schedule (sorted set)
-- KEYS[2] dead (sorted set)
-- ARGV[1] member exactly as read from KEYS[1] (written to dead unchanged)
-- ARGV[2] its score in dead (epoch seconds: now)
-- ARGV[3] dead: remove entries scored below this (epoch seconds)
-- ARGV[4] dead: keep at most this many entries
-- ARGV[5] optional: key prefix, to release the job's unique lock
-- Returns 1 when moved, 0 when the entry was no longer there, or { 'wrongtype', key }
-- (nothing written) when a key has another type than expected.
-- @include key-types
-- @include identity
-- @include unique-lock
local wrong = first_wrong_type({ { KEYS[1], 'zset' }, { KEYS[2], 'zset' } })
if wrong then return { 'wrongtype', wrong } end
local score, min_score, max_dead = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not (score and min_score and max_dead) then return redis.error_reply('kill: the score and the dead trim bounds must be numbers') end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[2], score, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(max_dead + 1))
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[5] then unique_release_job(ARGV[5], (decode_payload(ARGV[1]))) end
return 1
