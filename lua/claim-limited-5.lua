-- claim-limited: confirms what the idle wait of a limited queue took (the BLMOVE of claim-5, into
-- verk:node:<id>:claim:<q>) by sorting it as fetch-limited sorts the queue (docs/limits.md): each
-- claimed job is taken (slot acquired) or parked; then due keys and the queue are served up to
-- ARGV[1] jobs in all. Runs also when the wait timed out with nothing claimed: that is how an
-- idle node serves a key a reaper freed or whose rate window reopened (the wait of a limited
-- queue is bounded: src/redis/limit-calls.ts). Fenced or paused: the claimed jobs go back to
-- the fetch end of the queue, as in claim-5.
-- Built from the prefix ARGV[4]: <prefix>verk:limit:<q>:held|ready|keys|parked:<key>|rate:<key> and <prefix>verk:node:<node>:slots (lua/include/limit-*.lua).
-- KEYS[1] verk:node:<node>:claim:<q>
-- KEYS[2] inprogress:<q>:<node>
-- KEYS[3] verk:node:<node>          heartbeat key
-- KEYS[4] queue:<q>
-- KEYS[5] verk:paused
-- ARGV[1] want: max jobs taken in all (the claimed ones included)
-- ARGV[2] queue name
-- ARGV[3] byte budget (stop taking once the taken payloads add up to this; at least one)
-- ARGV[4] key prefix
-- ARGV[5] the limit (JSON, lua/include/limit-key.lua)
-- Returns { status, claimed, more, wait_ms, job... }: claimed = how many jobs the claim list held;
-- the jobs are every job taken (claimed ones included: a claimed job may have been parked). A key
-- of another type is an error when no job was taken (what was not sorted is back in the queue).
-- @include key-types
-- @include identity
-- @include redis-time
-- @include limit-key
-- @include limit-release
-- @include limit-take
local spec = limit_spec(ARGV[5])
if not spec then return redis.error_reply('claim-limited: the limit (ARGV[5]) does not decode') end
local claimed = redis.call('LRANGE', KEYS[1], 0, -1)
local function put_back(status)
  -- LRANGE is newest first; RPUSH in that order leaves the oldest at the fetch end, next in line.
  if #claimed > 0 then redis.call('RPUSH', KEYS[4], unpack(claimed)) end
  redis.call('DEL', KEYS[1])
  return { status, #claimed, 0, -1 }
end
local L = limit_ctx(ARGV[4], ARGV[2], KEYS[4], KEYS[2], KEYS[3], KEYS[5], spec)
local status = limit_open(L)
if type(status) == 'table' then
  put_back(1)
  return redis.error_reply(status[1] .. '; the claimed jobs were put back')
end
if status ~= 1 then return put_back(status) end
local out = { 1, #claimed, 0, -1 }
for i = #claimed, 1, -1 do
  local wrong = limit_sort(L, out, claimed[i])
  if wrong then
    -- Not sorted yet: claimed[1..i] go back to the fetch end, oldest (claimed[i]) last in.
    for j = 1, i do redis.call('RPUSH', KEYS[4], claimed[j]) end
    redis.call('DEL', KEYS[1])
    local err = limit_failed(L, wrong)
    if err then return err end
    out[3], out[4] = limit_outlook(L)
    return out
  end
end
redis.call('DEL', KEYS[1])
local wrong = limit_take(L, out, tonumber(ARGV[1]) or 0, tonumber(ARGV[3]))
local err = wrong and limit_failed(L, wrong)
if err then return err end
out[3], out[4] = limit_outlook(L)
return out
