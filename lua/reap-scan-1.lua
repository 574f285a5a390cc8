-- reap-scan: finds dead nodes among those due for a liveness check, in time proportional to
-- the number due, not to the fleet (docs/reliability.md, "Finding dead nodes").
-- verk:heartbeats scores each node with the earliest instant its heartbeat key may expire,
-- as last seen. A due node (score <= now) whose key still exists is re-scored with the key's
-- current expiry (now + PTTL): a live node is checked about once per nodeTtl, whatever its
-- beat rate, and never sooner than its key can expire. A due node whose key is gone is dead:
-- it is returned and re-scored `retry` ms ahead, so a node whose reap fails (or is left to
-- another reaper) is tried again next interval and never blocks the nodes behind it; the
-- reap script removes it from the set once it is fully reaped.
-- KEYS[1] verk:heartbeats
-- Built from the prefix ARGV[1]: <prefix>verk:node:<id> (each due node's heartbeat key).
-- ARGV[1] key prefix
-- ARGV[2] max nodes checked by this call
-- ARGV[3] retry delay in ms for dead nodes
-- Returns { more (1 = the call was full: call again), checked, dead id... }.
-- @include redis-time
local max, retry = tonumber(ARGV[2]), tonumber(ARGV[3])
if not (max and retry) or max < 1 or retry < 1 then
  return redis.error_reply('reap-scan: a numeric argument is missing or out of range')
end
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, max)
local out = { #due == max and 1 or 0, #due }
for _, id in ipairs(due) do
  local pttl = redis.call('PTTL', ARGV[1] .. 'verk:node:' .. id)
  if pttl >= 0 then
    redis.call('ZADD', KEYS[1], now + math.max(pttl, 1), id)
  elseif pttl == -1 then
    -- A heartbeat key without a TTL never expires (not written by a verk node): look again later.
    redis.call('ZADD', KEYS[1], now + retry, id)
  else
    redis.call('ZADD', KEYS[1], now + retry, id)
    table.insert(out, id)
  end
end
return out
