-- node-sweep: one page of the sweep that puts every registered node on the reaper's schedule
-- (docs/reliability.md, "Finding dead nodes"): nodes registered by Elixir verk (which writes
-- only verk_nodes and its heartbeat key), by older versions, or whose entry was lost. A node
-- of verk_nodes or verk:reaping missing from verk:heartbeats is added as due at once (score 0),
-- so the next reap-scan checks its heartbeat key. Never removes or moves anything else.
-- KEYS[1] verk_nodes
-- KEYS[2] verk:reaping
-- KEYS[3] verk:heartbeats
-- ARGV[1] SSCAN cursor of verk_nodes ("0" starts a sweep; verk:reaping is read whole with it)
-- ARGV[2] SSCAN COUNT hint
-- Returns { next cursor ("0" = the sweep is done), nodes seen, nodes added }.
local count = tonumber(ARGV[2])
if not count or count < 1 then return redis.error_reply('reap: the sweep page size is missing or out of range') end
local page = redis.call('SSCAN', KEYS[1], ARGV[1], 'COUNT', count)
local ids = page[2]
if ARGV[1] == '0' then
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do table.insert(ids, id) end
end
local added = 0
for i = 1, #ids, 500 do
  local chunk = { unpack(ids, i, math.min(i + 499, #ids)) }
  local scores = redis.call('ZMSCORE', KEYS[3], unpack(chunk))
  for j, id in ipairs(chunk) do
    if not scores[j] then
      added = added + redis.call('ZADD', KEYS[3], 'NX', 0, id)
    end
  end
end
return { page[1], #ids, added }
