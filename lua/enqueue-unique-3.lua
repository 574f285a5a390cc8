-- enqueue-unique: enqueues a job that carries a unique lock (docs/unique-jobs.md), or refuses
-- it. If <prefix>verk:unique:<key> is held, returns the holder's jid and writes nothing; else
-- takes the lock (value: this jid; with a ttl it expires by itself) and pushes the job, in the
-- same call: queue (LPUSH + SADD queues) or, with a score, schedule (ZADD). The same call sent
-- again (a reply lost in a reconnect) finds its own jid holding the lock and writes nothing.
-- Built from the prefix ARGV[1]: <prefix>verk:unique:<key> (the lock), <prefix>verk:uniques
-- (locks by age) and <prefix>verk:uniques:info (per lock: owner, since, queue, until, where).
-- KEYS[1] queues       (set of queue names)
-- KEYS[2] queue:<q>    (list; used when ARGV[6] is "")
-- KEYS[3] schedule     (sorted set; used when ARGV[6] is a score)
-- ARGV[1] key prefix
-- ARGV[2] the unique key
-- ARGV[3] jid (the lock's value; the payload's own jid)
-- ARGV[4] payload (carries "verk_unique")
-- ARGV[5] queue name
-- ARGV[6] run-at score for schedule (float epoch seconds), "" = push to the queue now
-- ARGV[7] until: "done", "started" or "ttl"
-- ARGV[8] ttl in ms (until "ttl"; 0 otherwise)
-- Returns { 1, jid } when enqueued, { 0, holder jid } when refused (the holder may be this very
-- jid: the same call repeated), or { 'wrongtype', key } (nothing written; also when the lock key
-- holds something other than a string).
-- @include key-types
-- @include redis-time
-- @include unique-lock
local wrong = first_wrong_type({ { KEYS[1], 'set' }, { KEYS[2], 'list' }, { KEYS[3], 'zset' }, { ARGV[1] .. 'verk:unique:' .. ARGV[2], 'string' } })
if wrong then return { 'wrongtype', wrong } end
local ttl = tonumber(ARGV[8]) or 0
if ARGV[7] == 'ttl' and not (ttl >= 1) then return redis.error_reply('enqueue-unique: a ttl lock needs a ttl in ms') end
if ARGV[7] ~= 'ttl' and ARGV[7] ~= 'done' and ARGV[7] ~= 'started' then return redis.error_reply('enqueue-unique: unknown until ' .. ARGV[7]) end
if ARGV[6] ~= '' and not tonumber(ARGV[6]) then return redis.error_reply('enqueue-unique: the score is not a number') end
local now = now_ms()
local info = { jid = ARGV[3], since = now, queue = ARGV[5], ['until'] = ARGV[7] }
if ARGV[7] == 'ttl' then info.ttl = ttl end
if ARGV[6] ~= '' then info.at, info.score = 'schedule', ARGV[6] end
local holder, taken = unique_take(ARGV[1], ARGV[2], ARGV[3], cjson.encode(info), ARGV[7] == 'ttl' and ttl or 0, now)
if not taken then return { 0, holder } end
if ARGV[6] == '' then
  redis.call('LPUSH', KEYS[2], ARGV[4])
  redis.call('SADD', KEYS[1], ARGV[5])
else
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[4])
end
return { 1, ARGV[3] }
