-- promote: moves due entries of `schedule` or `retry` to their queues, one batch per call.
-- The caller read the due members and prepared each one's queue payload (fresh enqueued_at,
-- other bytes untouched); an entry moves only if it is still in the set, so racing schedulers
-- on many nodes move each entry exactly once. An entry without a usable queue goes to `dead`
-- with its explanation instead of looping forever. Every destination's type is checked before
-- the first write; each entry is written to its destination before it is removed from the set.
-- KEYS[1] schedule or retry (sorted set)
-- KEYS[2] dead (sorted set)
-- KEYS[3] queues (set of queue names)
-- Built from the prefix ARGV[1]: <prefix>queue:<q> for each queue named in the triples.
-- ARGV[1] key prefix
-- ARGV[2] now, epoch seconds (score for dead entries)
-- ARGV[3..] triples: member as read, payload to write, queue name ("" = to dead)
-- Returns the number of entries moved to queues and to dead: { queued, dead }, or
-- { 'wrongtype', key } (nothing written) when a key has another type than expected.
-- @include key-types
local checks = { { KEYS[1], 'zset' }, { KEYS[2], 'zset' }, { KEYS[3], 'set' } }
local seen = {}
for i = 3, #ARGV, 3 do
  local q = ARGV[i + 2]
  if q ~= '' and not seen[q] then
    seen[q] = true
    table.insert(checks, { ARGV[1] .. 'queue:' .. q, 'list' })
  end
end
local wrong = first_wrong_type(checks)
if wrong then return { 'wrongtype', wrong } end
if not tonumber(ARGV[2]) then return redis.error_reply('promote: now is not a number') end
local queued, dead = 0, 0
for i = 3, #ARGV, 3 do
  local member, payload, q = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('ZSCORE', KEYS[1], member) then
    if q == '' then
      redis.call('ZADD', KEYS[2], ARGV[2], payload)
      dead = dead + 1
    else
      redis.call('LPUSH', ARGV[1] .. 'queue:' .. q, payload)
      redis.call('SADD', KEYS[3], q)
      queued = queued + 1
    end
    redis.call('ZREM', KEYS[1], member)
  end
end
return { queued, dead }
