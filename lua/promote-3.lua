-- promote: moves due entries of `schedule` or `retry` to their queues, one batch per call.
-- The caller read the due members and prepared each one's queue payload (fresh enqueued_at,
-- other bytes untouched); an entry moves only if this call removes it from the set, so racing
-- schedulers on many nodes move each entry exactly once. An entry without a usable queue
-- goes to `dead` with its explanation instead of looping forever.
-- KEYS[1] schedule or retry (sorted set)
-- KEYS[2] dead (sorted set)
-- KEYS[3] queues (set of queue names)
-- ARGV[1] key prefix
-- ARGV[2] now, epoch seconds (score for dead entries)
-- ARGV[3..] triples: member as read, payload to write, queue name ("" = to dead)
-- Returns the number of entries moved to queues and to dead: { queued, dead }.
local queued, dead = 0, 0
for i = 3, #ARGV, 3 do
  local member, payload, q = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('ZREM', KEYS[1], member) == 1 then
    if q == '' then
      redis.call('ZADD', KEYS[2], ARGV[2], payload)
      dead = dead + 1
    else
      redis.call('LPUSH', ARGV[1] .. 'queue:' .. q, payload)
      redis.call('SADD', KEYS[3], q)
      queued = queued + 1
    end
  end
end
return { queued, dead }
