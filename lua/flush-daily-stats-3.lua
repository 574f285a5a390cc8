-- flush-daily-stats: adds one `verk work` supervisor's job counts to Sidekiq's daily counters
-- (the History graph of Sidekiq Web), exactly once. The caller sends its cumulative totals
-- since it started; the totals already added are kept in KEYS[1] and only the difference is
-- added, so a call repeated after a lost reply (or resent by the client on reconnect), or an
-- older call arriving late, adds nothing (docs/redis.md, "Sidekiq's daily counters"). The
-- per-job totals `stat:processed`/`stat:failed` are the ack and fail scripts'; not touched here.
-- KEYS[1] verk:stat:flushed:<identity>  hash {processed, failed}: what was added so far
-- KEYS[2] stat:processed:<YYYY-MM-DD>   executions that day (successes + failures)
-- KEYS[3] stat:failed:<YYYY-MM-DD>      failures that day
-- ARGV[1] cumulative executions of the supervisor
-- ARGV[2] cumulative failures of the supervisor
-- ARGV[3] executions the caller knows were added (used when KEYS[1] has expired)
-- ARGV[4] failures the caller knows were added
-- ARGV[5] TTL of the daily counters in seconds (Sidekiq's: 5 years)
-- ARGV[6] TTL of KEYS[1] in seconds
-- Returns { executions added so far, failures added so far }, or { 'wrongtype', key }
-- (nothing written) when a key holds something INCRBY cannot add to.
local function not_counter(key)
  local t = redis.call('TYPE', key).ok
  if t == 'none' then return false end
  if t ~= 'string' then return true end
  return string.find(redis.call('GET', key), '^%-?%d+$') == nil
end
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'none' and t ~= 'hash' then return { 'wrongtype', KEYS[1] } end
if not_counter(KEYS[2]) then return { 'wrongtype', KEYS[2] } end
if not_counter(KEYS[3]) then return { 'wrongtype', KEYS[3] } end
local done = redis.call('HMGET', KEYS[1], 'processed', 'failed')
local done_p = tonumber(done[1]) or tonumber(ARGV[3])
local done_f = tonumber(done[2]) or tonumber(ARGV[4])
local total_p, total_f = tonumber(ARGV[1]), tonumber(ARGV[2])
if total_p > done_p then
  redis.call('INCRBY', KEYS[2], string.format('%d', total_p - done_p))
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  done_p = total_p
end
if total_f > done_f then
  redis.call('INCRBY', KEYS[3], string.format('%d', total_f - done_f))
  redis.call('EXPIRE', KEYS[3], ARGV[5])
  done_f = total_f
end
redis.call('HSET', KEYS[1], 'processed', string.format('%d', done_p), 'failed', string.format('%d', done_f))
redis.call('EXPIRE', KEYS[1], ARGV[6])
return { done_p, done_f }
