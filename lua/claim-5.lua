-- claim: confirms the job an idle wait took (docs/reliability.md, "Who owns a job"). The wait
-- is `BLMOVE queue:<q> verk:node:<id>:claim:<q> RIGHT LEFT`, sent with this script right
-- behind it in one pipeline: one blocked node per pushed job wakes (a rotation of the queue
-- onto itself would wake every idle node of the fleet), and the payload reaches the node once,
-- in the BLMOVE reply. This script then moves what was claimed into the node's in-progress
-- list if the node's heartbeat key exists and the queue is not paused, or back to the fetch
-- end of the queue (where it was) otherwise, and fetches up to ARGV[1] more jobs like fetch-5.
-- The claim list is empty at rest; whatever is in it belongs to the node and is recovered by
-- the reaper with its in-progress lists.
-- Builds no key from a prefix.
-- KEYS[1] verk:node:<node>:claim:<q>
-- KEYS[2] inprogress:<q>:<node>
-- KEYS[3] verk:node:<node>          heartbeat key
-- KEYS[4] queue:<q>
-- KEYS[5] verk:paused
-- ARGV[1] more: max jobs to fetch from the queue besides the claimed ones (0 = none)
-- ARGV[2] queue name
-- ARGV[3] byte budget of the extra jobs (fetch-into: stop once their payloads add up to this)
-- Returns { status, claimed, job... }: status 1 = ok, 0 = queue paused, -1 = fenced (both
-- with the claimed jobs put back); claimed = how many jobs the claim list held; the jobs are
-- the extra ones fetched (the claimed payloads are not sent again: the BLMOVE reply has them).
-- @include fetch-into
local claimed = redis.call('LRANGE', KEYS[1], 0, -1)
if #claimed == 0 then return { 1, 0 } end
local function put_back(status)
  -- LRANGE is newest first; RPUSH in that order leaves the oldest at the fetch end, next in line.
  redis.call('RPUSH', KEYS[4], unpack(claimed))
  redis.call('DEL', KEYS[1])
  return { status, #claimed }
end
if redis.call('EXISTS', KEYS[3]) == 0 then return put_back(-1) end
if redis.call('SISMEMBER', KEYS[5], ARGV[2]) == 1 then return put_back(0) end
local held = redis.call('TYPE', KEYS[2]).ok
if held ~= 'list' and held ~= 'none' then
  put_back(1)
  return redis.error_reply('WRONGTYPE ' .. KEYS[2] .. ' is not a list; the claimed jobs were put back')
end
-- Oldest first, as fetch-5 pushes: the newest ends at the head of the in-progress list.
for i = #claimed, 1, -1 do redis.call('LPUSH', KEYS[2], claimed[i]) end
redis.call('DEL', KEYS[1])
local out = { 1, #claimed }
local more = tonumber(ARGV[1]) or 0
if more > 0 then
  fetch_into(out, KEYS[4], KEYS[2], KEYS[3], KEYS[5], ARGV[2], more, nil, tonumber(ARGV[3]))
end
return out
