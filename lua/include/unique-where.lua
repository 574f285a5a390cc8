-- unique_where(prefix, jid, info, budget, max_nodes, max_bytes) -> where, node, searched, bytes:
-- where the owner
-- `jid` of a unique lock is (docs/unique-jobs.md), searched by its jid's quoted text in the
-- payloads (a false match keeps a lock, never releases one):
--   'retry' / 'schedule'  found at the score the lock's info remembers (info.at, info.score),
--                         or in a set small enough to read whole;
--   'queue'               in queue:<info.queue>;
--   'parked'              in a parked list of that queue (cluster-wide limits, docs/limits.md:
--                         verk:limit:<q>:parked:<key> of every key in verk:limit:<q>:keys; node = the key);
--   'inprogress' / 'claim' in a registered (or being reaped) node's list of that queue (node);
--   'unknown'             not found, but not everything could be read within `budget` elements
--                         elements or `max_bytes` of payloads (a long queue or sorted set, more
--                         than `max_nodes` nodes, a key of another type): cannot tell, so the
--                         caller keeps the lock;
--   nil                   nowhere: no live place holds it.
-- Reads only. `info` is the lock's decoded info (may be an empty table).
local function unique_where(prefix, jid, info, budget, max_nodes, max_bytes)
  local needle = '"' .. jid .. '"'
  local spent, bytes, unknown = 0, 0, false
  local function scan(items)
    for _, e in ipairs(items) do
      bytes = bytes + #e
      if string.find(e, needle, 1, true) then return true end
    end
    spent = spent + #items
    return false
  end
  local function exhausted() return spent >= budget or bytes >= max_bytes end
  local function in_list(key)
    local t = redis.call('TYPE', key).ok
    if t == 'none' then return false end
    if t ~= 'list' then unknown = true; return false end
    local len, pos = redis.call('LLEN', key), 0
    while pos < len do
      local n = math.min(100, budget - spent)
      if n <= 0 or exhausted() then unknown = true; return false end
      local chunk = redis.call('LRANGE', key, pos, pos + n - 1)
      if scan(chunk) then return true end
      if #chunk < n then break end
      pos = pos + #chunk
    end
    return false
  end
  local function in_set(set)
    local key = prefix .. set
    local t = redis.call('TYPE', key).ok
    if t == 'none' then return false end
    if t ~= 'zset' then unknown = true; return false end
    local size = redis.call('ZCARD', key)
    if size > budget - spent then unknown = true; return false end
    for pos = 0, size - 1, 100 do
      if exhausted() then unknown = true; return false end
      if scan(redis.call('ZRANGE', key, pos, pos + 99)) then return true end
    end
    return false
  end
  local q = type(info.queue) == 'string' and info.queue or nil
  -- The place the info names first (one lookup), then the queue, the nodes' lists, the sets.
  if info.at == 'retry' or info.at == 'schedule' then
    local key = prefix .. info.at
    if type(info.score) == 'string' and redis.call('TYPE', key).ok == 'zset' and scan(redis.call('ZRANGEBYSCORE', key, info.score, info.score, 'LIMIT', 0, 16)) then
      return info.at, nil, spent, bytes
    end
  end
  if q then
    if in_list(prefix .. 'queue:' .. q) then return 'queue', nil, spent, bytes end
    -- A limited queue's parked jobs: not in queue:<q>, still waiting (docs/limits.md).
    local keys = prefix .. 'verk:limit:' .. q .. ':keys'
    local kt = redis.call('TYPE', keys).ok
    if kt == 'set' then
      if redis.call('SCARD', keys) > budget - spent then
        unknown = true
      else
        for _, key in ipairs(redis.call('SMEMBERS', keys)) do
          if in_list(prefix .. 'verk:limit:' .. q .. ':parked:' .. key) then return 'parked', key, spent, bytes end
        end
      end
    elseif kt ~= 'none' then
      unknown = true
    end
    local nodes = {}
    for _, set in ipairs({ 'verk_nodes', 'verk:reaping' }) do
      local key = prefix .. set
      local t = redis.call('TYPE', key).ok
      if t == 'set' then
        if redis.call('SCARD', key) > max_nodes then
          unknown = true
        else
          for _, n in ipairs(redis.call('SMEMBERS', key)) do table.insert(nodes, n) end
        end
      elseif t ~= 'none' then
        unknown = true
      end
    end
    for _, n in ipairs(nodes) do
      if in_list(prefix .. 'inprogress:' .. q .. ':' .. n) then return 'inprogress', n, spent, bytes end
      if in_list(prefix .. 'verk:node:' .. n .. ':claim:' .. q) then return 'claim', n, spent, bytes end
    end
  else
    unknown = true
  end
  for _, set in ipairs({ 'retry', 'schedule' }) do
    if in_set(set) then return set, nil, spent, bytes end
  end
  if unknown then return 'unknown', nil, spent, bytes end
  return nil, nil, spent, bytes
end
