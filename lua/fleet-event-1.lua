-- fleet-event: appends one event of a node's life to the fleet's timeline (verk:events, newest
-- first, kept to ARGV[1] entries), stamped with Redis's clock so events of every host sort
-- together. Written by a supervisor when one of its nodes joins, leaves, exits or is fenced (the
-- reaps are in verk:recoveries, which the timeline reads beside it: docs/redis.md). Observability
-- only: no job moves here, and a write that fails is logged and forgotten.
-- Builds no key from a prefix.
-- KEYS[1] verk:events (list of JSON objects)
-- ARGV[1] entries to keep (at least 1)
-- ARGV[2] kind: joined, left, exited or fenced
-- ARGV[3] node id
-- ARGV[4] the supervisor's identity (host:pid:nonce)
-- ARGV[5] detail, free text (the fencing reason, the exit code or signal, jobs handed back)
-- Returns the event's time in Redis ms, or { 'wrongtype', key } (nothing written).
-- @include key-types
-- @include redis-time
local wrong = first_wrong_type({ { KEYS[1], 'list' } })
if wrong then return { 'wrongtype', wrong } end
local keep = math.max(1, math.floor(tonumber(ARGV[1]) or 1))
local at = now_ms()
redis.call('LPUSH', KEYS[1], cjson.encode({ at = at, kind = ARGV[2], node = ARGV[3], identity = ARGV[4], detail = ARGV[5] }))
redis.call('LTRIM', KEYS[1], 0, keep - 1)
return at
