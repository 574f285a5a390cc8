-- register: adds a node to the registry, starts its heartbeat key and schedules its first
-- liveness check (docs/reliability.md, "Who owns a job" and "Finding dead nodes").
-- KEYS[1] verk_nodes            set of registered node ids
-- KEYS[2] verk:node:<id>        heartbeat key ("alive", PX TTL)
-- KEYS[3] verk:node:<id>:info   node metadata hash
-- KEYS[4] verk:heartbeats       sorted set: node id -> earliest possible expiry of its
--                               heartbeat key (Redis ms); the reaper checks a node when due
-- ARGV[1] node id
-- ARGV[2] heartbeat TTL in ms
-- ARGV[3] metadata TTL in ms
-- ARGV[4..] metadata field, value pairs
-- Returns the Redis time in ms.
-- @include redis-time
local now = now_ms()
local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], 'alive', 'PX', ttl)
redis.call('ZADD', KEYS[4], now + ttl, ARGV[1])
redis.call('HSET', KEYS[3], 'registered_at', now, 'beat', now, 'ttl_ms', ttl, unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return now
