-- heartbeat: renews a node's heartbeat key, only while the node is still registered, so a
-- node that was reaped can never bring itself back (docs/reliability.md, "Who owns a job").
-- Uses Redis's clock only. An idle beat is three commands (this call, SISMEMBER, SET): the
-- metadata is written only when the caller sends it (it changed, or every few beats), and the
-- reaper's schedule (verk:heartbeats) is kept by the reaper itself, not by every beat.
-- KEYS[1] verk_nodes
-- KEYS[2] verk:node:<id>        heartbeat key
-- KEYS[3] verk:node:<id>:info   node metadata hash
-- ARGV[1] node id
-- ARGV[2] heartbeat TTL in ms
-- ARGV[3] metadata TTL in ms
-- ARGV[4..] metadata field, value pairs (busy, rss, running, ...); none = renew the key only
-- Returns 1 when renewed, 0 when refused (the node is no longer registered).
-- @include redis-time
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('SET', KEYS[2], 'alive', 'PX', ARGV[2])
if #ARGV >= 5 then
  redis.call('HSET', KEYS[3], 'beat', now_ms(), unpack(ARGV, 4))
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
return 1
