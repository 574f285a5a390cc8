-- heartbeat: renews a node's heartbeat key, only while the node is still registered, so a
-- node that was reaped can never bring itself back (docs/reliability.md, "Who owns a job"). Uses Redis's clock only.
-- KEYS[1] verk_nodes
-- KEYS[2] verk:node:<id>        heartbeat key
-- KEYS[3] verk:node:<id>:info   node metadata hash
-- ARGV[1] node id
-- ARGV[2] heartbeat TTL in ms
-- ARGV[3] metadata TTL in ms
-- ARGV[4..] metadata field, value pairs (busy, rss, running, ...)
-- Returns 1 when renewed, 0 when refused (the node is no longer registered).
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[2], 'alive', 'PX', ARGV[2])
redis.call('HSET', KEYS[3], 'beat', now_ms)
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
