-- ack: removes finished jobs from this node's in-progress list and counts them (docs/reliability.md,
-- "Who owns a job"), then, in the same call, refills the freed slots from the queue (the fetch of
-- fetch-5.lua, shared through lua/include/fetch-into.lua, with its fencing and pause checks),
-- so a busy worker needs one round trip per batch. A job no longer in the list (the node was
-- reaped and the job handed back) changes nothing: the caller counts it as a fencing rejection.
-- Builds no key from a prefix.
-- KEYS[1] inprogress:<q>:<node>
-- KEYS[2] stat:processed
-- KEYS[3] stat:processed:<q>
-- KEYS[4] verk:node:<node>   heartbeat key
-- KEYS[5] queue:<q>
-- KEYS[6] verk:paused
-- ARGV[1] refill: max jobs to fetch after the ack (0 = ack only)
-- ARGV[2] queue name
-- ARGV[3..] the exact payloads that were fetched
-- Returns { removed, node_alive (1/0), refill status (1 ok, 0 paused, -1 fenced, 2 not asked), job... }.
-- @include fetch-into
local removed = 0
for i = 3, #ARGV do
  removed = removed + redis.call('LREM', KEYS[1], -1, ARGV[i])
end
if removed > 0 then
  -- The jobs are acked already: a corrupt counter (not an integer) must not turn the ack into an
  -- error, so the counters are best effort, as in fail-8.
  redis.pcall('INCRBY', KEYS[2], removed)
  redis.pcall('INCRBY', KEYS[3], removed)
end
local want = tonumber(ARGV[1])
if want == 0 then
  if removed == #ARGV - 2 then return { removed, 1, 2 } end
  return { removed, redis.call('EXISTS', KEYS[4]), 2 }
end
local out = { removed, 1 }
if fetch_into(out, KEYS[5], KEYS[1], KEYS[4], KEYS[6], ARGV[2], want, nil) == -1 then out[2] = 0 end
return out
