-- handback-limited: handback-2 for a queue with a cluster-wide limit (docs/limits.md): returns jobs
-- this node holds to the front of their queue without spending a retry, and releases the slot of
-- each one it moved, found by the job's identity (so a job whose fetch reply was lost, whose slot
-- the worker never saw, releases it too). A job no longer held is skipped and releases nothing.
-- The queue's next take sorts the jobs again.
-- Built from the prefix ARGV[1]: <prefix>verk:limit:<q>:held|ready|keys|parked:<key>|rate:<key> and <prefix>verk:node:<node>:slots (lua/include/limit-*.lua).
-- KEYS[1] inprogress:<q>:<node> (or the node's claim list: its jobs hold no slot)
-- KEYS[2] queue:<q>
-- KEYS[3] verk:node:<node>   heartbeat key (its :slots hash holds the node's slot records)
-- ARGV[1] key prefix
-- ARGV[2] queue name
-- ARGV[3] "1" to release slots; "0" for the claim list (a claimed job holds none, and its
--         identity may name another copy's slot)
-- ARGV[4..] the exact payloads to hand back
-- Returns the number of jobs moved, or { 'wrongtype', key } (nothing written) when a key has
-- another type than it expects.
-- @include key-types
-- @include identity
-- @include redis-time
-- @include limit-release
local prefix, q, slots = ARGV[1], ARGV[2], KEYS[3] .. ':slots'
local wrong = first_wrong_type(limit_release_checks(prefix, q, slots, { { KEYS[1], 'list' }, { KEYS[2], 'list' } }))
if wrong then return { 'wrongtype', wrong } end
local now = now_ms()
local moved = 0
for i = 4, #ARGV do
  if redis.call('LPOS', KEYS[1], ARGV[i], 'RANK', -1) then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    redis.call('LREM', KEYS[1], -1, ARGV[i])
    if ARGV[3] == '1' then
      local _, id = decode_payload(ARGV[i])
      limit_release(prefix, slots, q, id, now)
    end
    moved = moved + 1
  end
end
return moved
