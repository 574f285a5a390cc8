-- ack: removes finished jobs from this node's in-progress list and counts them (DESIGN §4
-- step 5). A job that is no longer in the list (the node was reaped and the job handed back)
-- changes nothing: the caller counts it as a fencing rejection.
-- KEYS[1] inprogress:<q>:<node>
-- KEYS[2] stat:processed
-- KEYS[3] stat:processed:<q>
-- KEYS[4] verk:node:<node>   heartbeat key
-- ARGV[1..] the exact payload strings that were fetched
-- Returns { removed, node_alive (1/0) }.
local removed = 0
for i = 1, #ARGV do
  removed = removed + redis.call('LREM', KEYS[1], -1, ARGV[i])
end
if removed > 0 then
  redis.call('INCRBY', KEYS[2], removed)
  redis.call('INCRBY', KEYS[3], removed)
end
local alive = 1
if removed < #ARGV then
  alive = redis.call('EXISTS', KEYS[4])
end
return { removed, alive }
