-- set-page: the next page of a sorted set (schedule, retry, dead) after a cursor, the last entry
-- the reader saw, in ascending or descending order. Read-only. Paging by rank skips entries while
-- the set is consumed from its low end (the scheduler promoting due entries, the dead set's trim):
-- every removal before the page shifts the ranks. Here the page starts right after the cursor
-- entry: at its rank when it is still there, else after every entry ordered before it (a lower
-- score, or the same score and a member that sorts before it bytewise, as Redis orders ties), so
-- an entry that stays in the set all along is always found. A tie run at the cursor's score is
-- skipped at most 10 000 entries per call (then the page starts there: at worst an entry is listed
-- twice, never left out).
-- KEYS[1] the sorted set
-- ARGV[1] "asc" or "desc"
-- ARGV[2] page size (entries)
-- ARGV[3] the cursor's score as Redis wrote it ("" = from the first entry)
-- ARGV[4] the cursor's member
-- Returns { member, score, member, score, ... }: fewer than the page size only at the end.
local key, desc, n = KEYS[1], ARGV[1] == 'desc', tonumber(ARGV[2])
if not n or n < 1 then return redis.error_reply('set-page: the page size must be a positive number') end
local range = desc and 'ZREVRANGE' or 'ZRANGE'
local start = 0
if ARGV[3] ~= '' then
  local score, member = tonumber(ARGV[3]), ARGV[4]
  if not score then return redis.error_reply('set-page: the cursor score is not a number') end
  local now = redis.call('ZSCORE', key, member)
  if now and tonumber(now) == score then
    start = redis.call(desc and 'ZREVRANK' or 'ZRANK', key, member) + 1
  else
    -- Bytewise, as Redis orders members of one score (Lua's own < follows the locale).
    local function before(a)
      local len = math.min(#a, #member)
      for i = 1, len do
        local x, y = string.byte(a, i), string.byte(member, i)
        if x ~= y then
          if desc then return x > y end
          return x < y
        end
      end
      if desc then return #a > #member end
      return #a < #member
    end
    if desc then
      start = redis.call('ZCOUNT', key, '(' .. ARGV[3], '+inf')
    else
      start = redis.call('ZCOUNT', key, '-inf', '(' .. ARGV[3])
    end
    for _ = 1, 100 do
      local chunk = redis.call(range, key, start, start + 99, 'WITHSCORES')
      local skipped = 0
      for i = 1, #chunk, 2 do
        if tonumber(chunk[i + 1]) ~= score or not before(chunk[i]) then break end
        skipped = skipped + 1
      end
      start = start + skipped
      if skipped < 100 then break end
    end
  end
end
return redis.call(range, key, start, start + n - 1, 'WITHSCORES')
