-- fetch: moves up to N jobs from a queue into this node's in-progress list, oldest first
-- (DESIGN §4 step 2). Refuses when the node's heartbeat key is gone (it was reaped or expired:
-- it must fence itself) and fetches nothing from a queue paused cluster-wide.
-- KEYS[1] queue:<q>
-- KEYS[2] inprogress:<q>:<node>
-- KEYS[3] verk:node:<node>          heartbeat key
-- KEYS[4] verk:node:<node>:queues   queues this node may hold in-progress lists for
-- KEYS[5] verk:paused               set of paused queue names
-- ARGV[1] N (max jobs to move)
-- ARGV[2] queue name
-- ARGV[3] "1" to record the queue in KEYS[4] (first fetch of this queue by this node)
-- Returns { status, job... }: status 1 = ok, 0 = queue paused, -1 = fenced.
if redis.call('EXISTS', KEYS[3]) == 0 then
  return { -1 }
end
if redis.call('SISMEMBER', KEYS[5], ARGV[2]) == 1 then
  return { 0 }
end
if ARGV[3] == '1' then
  redis.call('SADD', KEYS[4], ARGV[2])
end
local jobs = redis.call('RPOP', KEYS[1], tonumber(ARGV[1]))
if not jobs then
  return { 1 }
end
for i = 1, #jobs, 1000 do
  redis.call('LPUSH', KEYS[2], unpack(jobs, i, math.min(i + 999, #jobs)))
end
table.insert(jobs, 1, 1)
return jobs
