-- ack_remove(list, tomb, first, stride, on_removed, last) -> removed, missing: removes finished jobs
-- named in ARGV from `first` to `last` (default: the end), `stride` arguments each (a spec and the payload or marker first:
-- lua/include/held-job.lua; "R" = remove the tail-most equal element at once with LREM -1). Found
-- jobs are replaced by the tombstone (LSET) and all tombstones removed by one LREM, so a batch
-- scans the list once. `on_removed(i)` (optional) is called with the ARGV position of each job
-- removed; `missing` lists the numbers (1-based) of jobs named by hash and not found.
-- ack_reply(removed, missing, jobs, processed, processed_q, node_key) -> the reply's head
-- { removed, node_alive, 2 (no refill yet), m, missing... }, after counting the removed jobs.
local function ack_remove(list, tomb, first, stride, on_removed, last)
  last = last or #ARGV
  for i = first, last, stride do
    local kind = string.byte(ARGV[i])
    if (kind == 66 or kind == 82) and ARGV[i + 1] == tomb then return redis.error_reply('ack: the tombstone equals a payload named by its bytes') end
  end
  local removed, tombs, jobs, missing = 0, 0, 0, {}
  for i = first, last, stride do
    jobs = jobs + 1
    if string.byte(ARGV[i]) == 82 then
      -- "R": a short list (the caller holds few jobs): remove the tail-most equal element at once.
      local n = redis.call('LREM', list, -1, ARGV[i + 1])
      removed = removed + n
      if n > 0 and on_removed then on_removed(i) end
    else
      local at = held_index(list, ARGV[i], ARGV[i + 1], tomb)
      if at then
        redis.call('LSET', list, at, tomb)
        tombs = tombs + 1
        if on_removed then on_removed(i) end
      elseif string.byte(ARGV[i]) == 72 then
        table.insert(missing, jobs)
      end
    end
  end
  if tombs > 0 then
    -- Exactly as many as were set: an element that already equalled the tombstone is a job with
    -- those very bytes, so whichever equal elements go, the same bytes stay.
    redis.call('LREM', list, -tombs, tomb)
  end
  return removed + tombs, missing, jobs
end

local function ack_reply(removed, missing, jobs, processed, processed_q, node_key)
  if removed > 0 then
    -- The jobs are acked already: a corrupt counter (not an integer) must not turn the ack into an
    -- error, so the counters are best effort, as in fail-8.
    redis.pcall('INCRBY', processed, removed)
    redis.pcall('INCRBY', processed_q, removed)
  end
  local alive = 1
  if removed < jobs then alive = redis.call('EXISTS', node_key) end
  local out = { removed, alive, 2, #missing }
  for j = 1, #missing do table.insert(out, missing[j]) end
  return out
end

-- ack_lock_tail(first, stride) -> last, released(gone, prefix): the unique-lock tail of an ack
-- (docs/unique-jobs.md): "U" at a spec's position, the key prefix, then pairs "<n>:<jid>" and the
-- lock's key. `last` is the jobs' last ARGV; released(gone) releases (compare-and-delete) the lock
-- of each job whose number is in `gone` (the jobs this call removed: a zombie's late ack finds no
-- job and releases nothing). Needs the unique-lock include before this one.
local function ack_lock_tail(first, stride)
  local last = #ARGV
  for i = first, #ARGV, stride do
    if ARGV[i] == 'U' then last = i - 1; break end
  end
  return last, function(gone)
    for i = last + 3, #ARGV, 2 do
      local n, jid = string.match(ARGV[i], '^(%d+):(.*)$')
      if n and gone[tonumber(n)] then unique_release(ARGV[last + 2], ARGV[i + 1], jid) end
    end
  end
end
