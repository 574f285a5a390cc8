-- fetch-limited: the fetch of a queue with a cluster-wide limit (docs/limits.md): serves due keys
-- from the ready set, then sorts jobs from the queue's fetch end: a job whose key has a free
-- slot and rate room is moved into this node's in-progress list with its slot acquired in this
-- call; the others are parked once in their key's list (never popped and re-pushed in a loop).
-- Same fencing and pause checks as fetch-5. Bounded: N jobs taken, a byte budget, spec.P jobs
-- parked and spec.R due keys per call.
-- KEYS[1] queue:<q>
-- KEYS[2] inprogress:<q>:<node>
-- KEYS[3] verk:node:<node>          heartbeat key (its :slots hash holds the node's slot records)
-- KEYS[4] verk:node:<node>:queues   queues this node may hold in-progress lists for
-- KEYS[5] verk:paused               set of paused queue names
-- ARGV[1] N (max jobs to take)
-- ARGV[2] queue name
-- ARGV[3] "1" to record the queue in KEYS[4] (first fetch of this queue by this node)
-- ARGV[4] byte budget: stop taking jobs once their payloads add up to this (at least one is taken)
-- Built from the prefix ARGV[5]: <prefix>verk:limit:<q>:held|ready|keys|parked:<key>|rate:<key> and <prefix>verk:node:<node>:slots (lua/include/limit-*.lua).
-- ARGV[5] key prefix
-- ARGV[6] the limit (JSON, lua/include/limit-key.lua: limit_spec)
-- Returns { status, more, wait_ms, job... }: status 1 = ok, 0 = queue paused, -1 = fenced; more =
-- 1 when jobs are left to sort (call again at once); wait_ms = ms until the next rate-blocked key
-- reopens (-1 = none). A key of another type is an error when no job was taken yet (the job it
-- concerned stays in the queue); after a job was taken the call returns what it took.
-- @include key-types
-- @include identity
-- @include redis-time
-- @include limit-key
-- @include limit-release
-- @include limit-take
local spec = limit_spec(ARGV[6])
if not spec then return redis.error_reply('fetch-limited: the limit (ARGV[6]) does not decode') end
local L = limit_ctx(ARGV[5], ARGV[2], KEYS[1], KEYS[2], KEYS[3], KEYS[5], spec)
local status = limit_open(L)
if type(status) == 'table' then return redis.error_reply(status[1]) end
if status ~= 1 then return { status, 0, -1 } end
if ARGV[3] == '1' then redis.call('SADD', KEYS[4], ARGV[2]) end
local out = { 1, 0, -1 }
local wrong = limit_take(L, out, tonumber(ARGV[1]), tonumber(ARGV[4]))
local err = wrong and limit_failed(L, wrong)
if err then return err end
out[2], out[3] = limit_outlook(L)
return out
