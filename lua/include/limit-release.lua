-- The release half of a cluster-wide limit (docs/limits.md, "Slots"). A slot is a record in
-- verk:node:<id>:slots: field "<queue>\t<job identity>", value the key (several keys joined by
-- tabs when the node holds several jobs of one identity), and the count in
-- verk:limit:<queue>:held. Whoever removes the job from the node's lists releases its record in
-- the same script, record first: a job not removed releases nothing, and a record released once
-- is gone, so no slot is released twice.
-- limit_free(prefix, q, key, now): one slot of (q, key) less in the held count; if the key has
-- parked jobs it becomes due at `now` (ZADD LT: an earlier due time stays).
-- limit_release(prefix, slots, q, id, now) -> the key released, or nil when the node holds no
-- slot for that job.
-- limit_release_all(prefix, slots, now) -> how many slots it freed; deletes the node's records.
-- limit_release_checks(prefix, q, slots, checks): appends the keys a release writes to a
-- first_wrong_type list (callers check them before their first write).
local function limit_free(prefix, q, key, now)
  local base = prefix .. 'verk:limit:' .. q .. ':'
  -- Under pcall: the job is already removed, so a corrupt count (not an integer) or a key of
  -- another type must not fail the script after that write; the audit recounts held from the
  -- records (src/core/duties/limit-audit.ts).
  local n = redis.pcall('HINCRBY', base .. 'held', key, -1)
  if type(n) ~= 'number' or n <= 0 then redis.pcall('HDEL', base .. 'held', key) end
  if redis.call('EXISTS', base .. 'parked:' .. key) == 1 then redis.pcall('ZADD', base .. 'ready', 'LT', now, key) end
end

local function limit_release(prefix, slots, q, id, now)
  local field = q .. '\t' .. id
  local v = redis.call('HGET', slots, field)
  if not v then return nil end
  local rest, key = string.match(v, '^(.*)\t([^\t]*)$')
  if rest then
    redis.call('HSET', slots, field, rest)
  else
    key = v
    redis.call('HDEL', slots, field)
  end
  limit_free(prefix, q, key, now)
  return key
end

local function limit_release_all(prefix, slots, now)
  if redis.call('TYPE', slots).ok ~= 'hash' then return 0 end
  local all = redis.call('HGETALL', slots)
  local freed = 0
  for i = 1, #all, 2 do
    local q = string.match(all[i], '^([^\t]*)\t')
    if q then
      for key in string.gmatch(all[i + 1], '[^\t]+') do
        limit_free(prefix, q, key, now)
        freed = freed + 1
      end
    end
  end
  redis.call('DEL', slots)
  return freed
end

local function limit_release_checks(prefix, q, slots, checks)
  local base = prefix .. 'verk:limit:' .. q .. ':'
  table.insert(checks, { slots, 'hash' })
  table.insert(checks, { base .. 'held', 'hash' })
  table.insert(checks, { base .. 'ready', 'zset' })
  return checks
end
