-- fail: settles one failed job, only if this node still holds it (DESIGN §4 step 5):
-- removes it from the in-progress list, then schedules a retry, buries it in the dead set
-- (trimmed by age and size) or drops it, and counts the failure.
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
-- Returns 1 = settled, 0 = not held but the node is alive, -1 = not held and the node is fenced.
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then
  if redis.call('EXISTS', KEYS[8]) == 1 then return 0 end
  return -1
end
if ARGV[2] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
elseif ARGV[2] == 'dead' then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[5])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[6]) + 1))
end
redis.call('INCR', KEYS[4])
redis.call('INCR', KEYS[5])
redis.call('INCR', KEYS[6])
redis.call('INCR', KEYS[7])
return 1
