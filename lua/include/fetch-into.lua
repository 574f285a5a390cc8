-- fetch_into(out, queue, inprogress, node_key, paused, qname, want, queues_key): the fetch of
-- fetch-5.lua and of ack-6.lua's refill (docs/reliability.md, "Who owns a job"). Appends to `out` a status (1 ok,
-- 0 queue paused, -1 fenced: the node's heartbeat key is gone) and, when ok, up to `want`
-- jobs moved from the queue's fetch end (RPOP, oldest first) into the in-progress list. With
-- `queues_key`, records the queue there (a node's first fetch of it). Returns the status.
-- The jobs are popped first (so a full Redis still lets workers drain queues: RPOP frees
-- memory and is allowed while LPUSH alone would be refused); if the LPUSH fails (the
-- in-progress key holds another type) they are pushed back exactly where they were and the
-- script raises an error naming the key (the only error after a write; it changes nothing).
local function fetch_into(out, queue, inprogress, node_key, paused, qname, want, queues_key)
  local function status(s) table.insert(out, s); return s end
  if redis.call('EXISTS', node_key) == 0 then return status(-1) end
  if redis.call('SISMEMBER', paused, qname) == 1 then return status(0) end
  if queues_key then redis.call('SADD', queues_key, qname) end
  status(1)
  local jobs = redis.call('RPOP', queue, want)
  if not jobs then return 1 end
  for i = 1, #jobs, 1000 do
    local res = redis.pcall('LPUSH', inprogress, unpack(jobs, i, math.min(i + 999, #jobs)))
    if type(res) == 'table' and res.err then
      -- Only the first chunk can fail (one key): put every job back at the tail, j1 last.
      local back = {}
      for j = #jobs, 1, -1 do table.insert(back, jobs[j]) end
      for j = 1, #back, 1000 do redis.call('RPUSH', queue, unpack(back, j, math.min(j + 999, #back))) end
      error({ err = 'WRONGTYPE ' .. inprogress .. ' is not a list; the fetched jobs were put back (' .. res.err .. ')' })
    end
  end
  for i = 1, #jobs do table.insert(out, jobs[i]) end
  return 1
end
