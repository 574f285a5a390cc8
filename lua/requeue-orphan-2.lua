-- requeue-orphan: hands back an in-progress list that no registered node owns (`verk stuck
-- --requeue`), e.g. left by a fixed-id node that never came back. Moves one batch to the front
-- of the queue (the side jobs are fetched from), keeping their order, like verk's lpop_rpush;
-- the caller repeats until nothing remains. Refuses, moving nothing, while the owning node is
-- registered (verk_nodes or verk:reaping: the reaper's business) or its heartbeat key exists.
-- Recoveries are not counted and payloads are moved byte for byte, written to the queue
-- before they are trimmed off the list.
-- KEYS[1] inprogress:<q>:<node>, or verk:node:<node>:claim:<q> (a claim left by an idle wait
--         whose confirmation never ran)
-- KEYS[2] queue:<q>
-- Built from the prefix ARGV[1]: <prefix>verk_nodes, <prefix>verk:reaping, <prefix>verk:node:<id>
-- (read only).
-- ARGV[1] key prefix
-- ARGV[2] node id owning the list
-- ARGV[3] batch size
-- Returns { status, moved, remaining } with status "moved", "owned" or "alive", or
-- { 'wrongtype', 0, 0, key } (nothing written) when a key has another type than a list.
-- @include key-types
local wrong = first_wrong_type({ { KEYS[1], 'list' }, { KEYS[2], 'list' } })
if wrong then return { 'wrongtype', 0, 0, wrong } end
local prefix, node = ARGV[1], ARGV[2]
if redis.call('SISMEMBER', prefix .. 'verk_nodes', node) == 1
  or redis.call('SISMEMBER', prefix .. 'verk:reaping', node) == 1 then
  return { 'owned', 0, redis.call('LLEN', KEYS[1]) }
end
if redis.call('EXISTS', prefix .. 'verk:node:' .. node) == 1 then
  return { 'alive', 0, redis.call('LLEN', KEYS[1]) }
end
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)
if #items > 0 then
  for i = 1, #items, 1000 do
    redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 999, #items)))
  end
  redis.call('LTRIM', KEYS[1], #items, -1)
end
return { 'moved', #items, redis.call('LLEN', KEYS[1]) }
