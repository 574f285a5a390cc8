-- handback: returns jobs this node holds to the front of their queue without spending a
-- retry (graceful shutdown, a fenced node giving up, reconciling after a reconnect). Each job
-- is pushed to the queue before it is removed from the in-progress list. Builds no key from
-- a prefix.
-- KEYS[1] inprogress:<q>:<node>
-- KEYS[2] queue:<q>
-- ARGV[1..] the exact payloads to hand back
-- Returns the number of jobs moved (a job no longer held is skipped), or { 'wrongtype', key }
-- (nothing written) when a key has another type than a list.
-- @include key-types
local wrong = first_wrong_type({ { KEYS[1], 'list' }, { KEYS[2], 'list' } })
if wrong then return { 'wrongtype', wrong } end
local moved = 0
for i = 1, #ARGV do
  if redis.call('LPOS', KEYS[1], ARGV[i], 'RANK', -1) then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    redis.call('LREM', KEYS[1], -1, ARGV[i])
    moved = moved + 1
  end
end
return moved
