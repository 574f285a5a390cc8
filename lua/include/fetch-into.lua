-- fetch_into(out, queue, inprogress, node_key, paused, qname, want, queues_key, max_bytes): the
-- fetch of fetch-5.lua and of ack-6.lua's refill (docs/reliability.md, "Who owns a job").
-- Returns a status (1 ok, 0 queue paused, -1 fenced: the node's heartbeat key is gone) and, when
-- ok, appends to `out` up to `want` jobs moved from the queue's fetch end (RPOP, oldest first)
-- into the in-progress list, stopping once their payloads add up to `max_bytes` (at least one
-- job is taken; a call is bounded in time as well as in count). With `queues_key`, records the
-- queue there (a node's first fetch of it).
-- Jobs are popped in chunks of at most 16, sized from the largest payload seen so far (the first
-- chunk is one job), so the budget is overshot by at most the last chunk: fewer than 16 jobs, and
-- only when payloads grow within the call. Each chunk is popped first (so a full Redis
-- still lets workers drain queues: RPOP frees memory and is allowed while LPUSH alone would be
-- refused), then pushed; if the push fails (the in-progress key holds another type: only the
-- first push can fail, one key) the chunk is pushed back exactly where it was and the script
-- raises an error naming the key (the only error after a write; it changes nothing).
local function fetch_into(out, queue, inprogress, node_key, paused, qname, want, queues_key, max_bytes)
  if redis.call('EXISTS', node_key) == 0 then return -1 end
  if redis.call('SISMEMBER', paused, qname) == 1 then return 0 end
  if queues_key then redis.call('SADD', queues_key, qname) end
  local got, bytes, biggest = 0, 0, 0
  while got < want and bytes < max_bytes do
    local n = want - got
    if biggest == 0 then n = 1 else n = math.max(1, math.min(n, 16, math.floor((max_bytes - bytes) / biggest))) end
    local jobs = redis.call('RPOP', queue, n)
    if not jobs then break end
    for i = 1, #jobs, 1000 do
      local res = redis.pcall('LPUSH', inprogress, unpack(jobs, i, math.min(i + 999, #jobs)))
      if type(res) == 'table' and res.err then
        -- Put the chunk back at the tail, its first job last (nothing else was pushed yet).
        local back = {}
        for j = #jobs, 1, -1 do table.insert(back, jobs[j]) end
        for j = 1, #back, 1000 do redis.call('RPUSH', queue, unpack(back, j, math.min(j + 999, #back))) end
        error({ err = 'WRONGTYPE ' .. inprogress .. ' is not a list; the fetched jobs were put back (' .. res.err .. ')' })
      end
    end
    for i = 1, #jobs do
      local len = #jobs[i]
      bytes = bytes + len
      if len > biggest then biggest = len end
      table.insert(out, jobs[i])
    end
    got = got + #jobs
    if #jobs < n then break end
  end
  return 1
end
