-- reclaim: after a failover, takes back from the queue jobs this node is running but the new
-- primary shows as still queued (the fetch that moved them was not replicated), so nobody else
-- runs them again and their ack finds them (docs/redis-ha.md, "Reconcile after a failover").
-- Each job is pushed to the in-progress list (the fetch end, as a fetch does) before it is
-- removed from the queue; a job not in the queue (another node took it) is skipped. Refuses
-- when the node's heartbeat key is gone (a fenced node takes nothing). Builds no key from a prefix.
-- KEYS[1] queue:<q>
-- KEYS[2] inprogress:<q>:<node>
-- KEYS[3] verk:node:<node>   heartbeat key
-- ARGV[1] how far from the fetch end (the tail) the queue is searched: a job whose fetch was
--         undone is there, and a long queue is never scanned whole
-- ARGV[2..] the exact payloads the node is running and does not hold
-- Returns the number of jobs taken back, -1 when the node's heartbeat key is gone, or
-- { 'wrongtype', key } (nothing written) when a key has another type than a list.
-- @include key-types
local wrong = first_wrong_type({ { KEYS[1], 'list' }, { KEYS[2], 'list' } })
if wrong then return { 'wrongtype', wrong } end
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
local taken = 0
local depth = tonumber(ARGV[1])
for i = 2, #ARGV do
  if redis.call('LPOS', KEYS[1], ARGV[i], 'RANK', -1, 'MAXLEN', depth) then
    redis.call('LPUSH', KEYS[2], ARGV[i])
    redis.call('LREM', KEYS[1], -1, ARGV[i])
    taken = taken + 1
  end
end
return taken
