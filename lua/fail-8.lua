-- fail: settles one failed job, only if this node still holds it (docs/reliability.md, "Who owns a job"): schedules
-- a retry, buries it in the dead set (trimmed by age and size) or drops it, counts the
-- failure, and only then removes it from the in-progress list (write before remove: an error
-- can never leave the job in neither place). A job that carries a unique lock (docs/unique-jobs.md)
-- names it in ARGV[7..9]: dead and drop release it (compare-and-delete), retry keeps it and
-- records where the job now waits; without them the call is exactly what it was.
-- Built from the prefix ARGV[7] (optional): <prefix>verk:unique:<key>, <prefix>verk:uniques,
-- <prefix>verk:uniques:info.
-- KEYS[1] inprogress:<q>:<node>
-- KEYS[2] retry
-- KEYS[3] dead
-- KEYS[4] stat:processed
-- KEYS[5] stat:processed:<q>
-- KEYS[6] stat:failed
-- KEYS[7] stat:failed:<q>
-- KEYS[8] verk:node:<node>   heartbeat key
-- ARGV[1] payload as fetched
-- ARGV[2] mode: "retry", "dead" or "drop"
-- ARGV[3] payload to write (retry/dead)
-- ARGV[4] score: retry time or time of death (float epoch seconds)
-- ARGV[5] dead: remove entries scored below this (epoch seconds)
-- ARGV[6] dead: keep at most this many entries
-- ARGV[7] optional: the key prefix (for the tails below)
-- ARGV[8] optional: the job's unique key ("" = none; docs/unique-jobs.md)
-- ARGV[9] optional: the job's jid (the lock's value); retry keeps the lock (and records where the
--         job waits), dead and drop release it
-- ARGV[10] optional, for a queue with a cluster-wide limit (docs/limits.md): the queue name ("" = none)
-- ARGV[11] optional: the job's identity; with ARGV[10..11] the job's slot is released once it is
--         removed (lua/include/limit-release.lua builds <prefix>verk:limit:<q>:held|ready|parked:<key>)
-- Returns 1 = settled, 0 = not held but the node is alive, -1 = not held and the node is
-- fenced, or { 'wrongtype', key } (nothing written) when a key it would write has another type.
-- @include key-types
-- @include redis-time
-- @include unique-lock
-- @include limit-release
local prefix = ARGV[7]
local lock_key, lock_jid = ARGV[8] ~= '' and ARGV[8] or nil, ARGV[9]
local limit_q, limit_id = ARGV[10] ~= '' and ARGV[10] or nil, ARGV[11]
local mode = ARGV[2]
local dest = (mode == 'retry' and KEYS[2]) or (mode == 'dead' and KEYS[3]) or nil
local score, min_score, max_dead = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if not dest and mode ~= 'drop' then return redis.error_reply('fail: unknown mode ' .. tostring(mode)) end
if dest and not (score and score == score) then return redis.error_reply('fail: score is not a number') end
if mode == 'dead' and not (min_score and max_dead) then return redis.error_reply('fail: dead trim bounds are not numbers') end
local checks = { { KEYS[1], 'list' } }
if dest then table.insert(checks, { dest, 'zset' }) end
if limit_q and limit_id then limit_release_checks(prefix, limit_q, KEYS[8] .. ':slots', checks) end
local wrong = first_wrong_type(checks)
if wrong then return { 'wrongtype', wrong } end
if not redis.call('LPOS', KEYS[1], ARGV[1], 'RANK', -1) then
  if redis.call('EXISTS', KEYS[8]) == 1 then return 0 end
  return -1
end
if mode == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
elseif mode == 'dead' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[5])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(max_dead + 1))
end
-- A counter that is not an integer is left as it is rather than failing after the write.
redis.pcall('INCR', KEYS[4])
redis.pcall('INCR', KEYS[5])
redis.pcall('INCR', KEYS[6])
redis.pcall('INCR', KEYS[7])
redis.call('LREM', KEYS[1], -1, ARGV[1])
if lock_key and lock_jid then
  if mode == 'retry' then unique_hint(prefix, lock_key, lock_jid, 'retry', ARGV[4]) else unique_release(prefix, lock_key, lock_jid) end
end
if limit_q and limit_id then limit_release(prefix, KEYS[8] .. ':slots', limit_q, limit_id, now_ms()) end
return 1
