-- Unique-job locks (docs/unique-jobs.md). A lock is <prefix>verk:unique:<key>, a string whose
-- value is the owner's jid; <prefix>verk:uniques (sorted set: key -> Redis ms it was taken or
-- last found alive by the sweeper) and <prefix>verk:uniques:info (hash: key -> JSON {jid, since,
-- queue, until, at, score}) say where to look for the owner. A payload carries its lock as
-- "verk_unique":{"key":..,"until":"done"|"started"|"ttl"}, so every script that moves a job can
-- release the lock without config. Release is always compare-and-delete (only when the lock's
-- value is this jid), and never raises: a wrong-typed lock, index or info key is left as it is,
-- so a release can never fail a script after its writes.

-- unique_of(job) -> key, until for a decoded payload that carries a lock, else nil.
local function unique_of(job)
  local u = type(job) == 'table' and job.verk_unique
  if type(u) ~= 'table' or type(u.key) ~= 'string' or u.key == '' or type(job.jid) ~= 'string' then return nil end
  return u.key, u['until']
end

-- unique_release(prefix, key, jid) -> 1 when the lock named `jid` and is now gone, else 0.
local function unique_release(prefix, key, jid)
  local lock = prefix .. 'verk:unique:' .. key
  local v = redis.pcall('GET', lock)
  if type(v) ~= 'string' or v ~= jid then return 0 end
  redis.call('DEL', lock)
  redis.pcall('ZREM', prefix .. 'verk:uniques', key)
  redis.pcall('HDEL', prefix .. 'verk:uniques:info', key)
  return 1
end

-- unique_release_job(prefix, job): releases the lock a decoded payload carries, for until "done"
-- or "started" (a ttl lock only expires; another value is no lock verk wrote: the sweeper's).
-- Returns 1 when released.
local function unique_release_job(prefix, job)
  local key, till = unique_of(job)
  if not key or (till ~= 'done' and till ~= 'started') then return 0 end
  return unique_release(prefix, key, job.jid)
end

-- unique_hint(prefix, key, jid, at, score): records in the lock's info that its owner now sits
-- in sorted set `at` (retry, schedule) with that score (the text written by ZADD), so the sweeper
-- finds it with one ZRANGEBYSCORE. Only while the lock is this jid's; best effort.
local function unique_hint(prefix, key, jid, at, score)
  if redis.pcall('GET', prefix .. 'verk:unique:' .. key) ~= jid then return end
  local info = prefix .. 'verk:uniques:info'
  local raw = redis.pcall('HGET', info, key)
  local ok, t = pcall(cjson.decode, type(raw) == 'string' and raw or '{}')
  if not ok or type(t) ~= 'table' then t = {} end
  t.jid, t.at, t.score = jid, at, score
  redis.pcall('HSET', info, key, cjson.encode(t))
end

-- unique_take(prefix, key, jid, info_json, ttl_ms, now_ms) -> holder, taken: the lock's holder
-- after the call (`jid` when it took the lock or already held it) and whether this call took it.
-- ttl_ms > 0: the lock expires by itself (until ttl). Raises nothing: a wrong-typed lock key
-- reads as held by "?" (an enqueue is refused rather than doubled).
local function unique_take(prefix, key, jid, info_json, ttl_ms, now_ms)
  local lock = prefix .. 'verk:unique:' .. key
  local v = redis.pcall('GET', lock)
  if type(v) == 'string' then return v, false end
  if type(v) == 'table' and v.err then return '?', false end
  if ttl_ms > 0 then
    redis.call('SET', lock, jid, 'PX', ttl_ms)
  else
    redis.call('SET', lock, jid)
  end
  redis.pcall('ZADD', prefix .. 'verk:uniques', now_ms, key)
  redis.pcall('HSET', prefix .. 'verk:uniques:info', key, info_json)
  return jid, true
end
