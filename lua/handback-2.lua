-- handback: returns jobs this node holds to the front of their queue without spending a
-- retry (graceful shutdown, a fenced node giving up, reconciling after a reconnect).
-- KEYS[1] inprogress:<q>:<node>
-- KEYS[2] queue:<q>
-- ARGV[1..] the exact payload strings to hand back
-- Returns the number of jobs moved (a job no longer held is skipped).
local moved = 0
for i = 1, #ARGV do
  if redis.call('LREM', KEYS[1], -1, ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    moved = moved + 1
  end
end
return moved
