-- held_index(list, spec, value, tomb) -> the index of the element of `list` that is the job
-- named by (spec, value), or nil when this node does not hold it (docs/reliability.md, "Who owns
-- a job"). Reads at most one element into Lua, so a lookup costs one payload's bytes, whatever
-- the list's length. `spec` is one of
--   "B<hint>"                  value = the job's exact bytes; near the tail (hint <= 64) the
--                              tail-most equal element among the last <hint> is found with
--                              LPOS MAXLEN (compared in C, nothing copied into Lua), further in
--                              the element at tail position <hint> (1 = the tail, 0 = no hint)
--                              must equal them; else the tail-most equal element in the list;
--   "H<hint>:<len>:<off>:<sha1>" value = the bytes at offset <off> of the job (its marker): the
--                              element at tail position <hint> must have <len> bytes, that
--                              marker at <off> and that SHA-1 (redis.sha1hex); no search.
-- An element equal to `tomb` (the caller's tombstone) never matches: the caller replaces every
-- element it found by `tomb` and removes exactly as many tombstones afterwards, so it must not
-- count one twice. The returned index is negative (from the tail) or, from LPOS, positive.
local function held_index(list, spec, value, tomb)
  local mode, hint = string.match(spec, '^([BH])(%d+)')
  hint = tonumber(hint)
  if mode == 'B' then
    if hint and hint > 0 and hint <= 64 then
      local p = redis.call('LPOS', list, value, 'RANK', -1, 'MAXLEN', hint)
      if p then return p end
    elseif hint and hint > 0 and redis.call('LINDEX', list, -hint) == value then
      return -hint
    end
    return redis.call('LPOS', list, value, 'RANK', -1) or nil
  end
  local len, off, sha = string.match(spec, '^H%d+:(%d+):(%d+):(%x+)$')
  if not (mode == 'H' and len and hint > 0) then return nil end
  local s = redis.call('LINDEX', list, -hint)
  off = tonumber(off)
  if s and #s == tonumber(len) and s ~= tomb and string.sub(s, off + 1, off + #value) == value and redis.sha1hex(s) == sha then return -hint end
  return nil
end
