-- register: adds a node to the registry and starts its heartbeat key (docs/reliability.md, "Who owns a job").
-- KEYS[1] verk_nodes            set of registered node ids
-- KEYS[2] verk:node:<id>        heartbeat key ("alive", PX TTL)
-- KEYS[3] verk:node:<id>:info   node metadata hash
-- ARGV[1] node id
-- ARGV[2] heartbeat TTL in ms
-- ARGV[3] metadata TTL in ms
-- ARGV[4..] metadata field, value pairs
-- Returns the Redis time in ms.
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], 'alive', 'PX', ARGV[2])
redis.call('HSET', KEYS[3], 'registered_at', now_ms, 'beat', now_ms)
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return now_ms
