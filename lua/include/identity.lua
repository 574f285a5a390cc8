-- decode_payload(raw) -> job, identity. `job` is the decoded table when `raw` is a JSON object
-- (first non-blank byte '{', decoded by cjson, and strict JSON: cjson also takes 0x10, nan,
-- inf, +1, 01, 1. and raw control bytes in strings, which JSON.parse refuses), else nil.
-- `identity` is the jid when it is a non-empty printable-ASCII (0x21-0x7E) string of at most
-- 255 bytes, or an integer with |n| <= 2^53-1 (decimal digits, -0 -> "0"); otherwise the sha1
-- of the bytes. The same rule as src/job/identity.ts (tested against each other).
local function strict_number(t)
  local int, rest = string.match(t, '^%-?(%d+)(.*)$')
  if not int or (#int > 1 and string.byte(int, 1) == 48) then return false end
  if string.byte(rest, 1) == 46 then
    rest = string.match(rest, '^%.%d+(.*)$')
    if not rest then return false end
  end
  return rest == '' or string.find(rest, '^[eE][%+%-]?%d+$') ~= nil
end

-- Called only on text cjson decoded (so its structure is valid): checks the bare tokens and
-- the strings' raw bytes.
local function strict_json(s)
  local i = 1
  while true do
    local a = string.find(s, '["%w%.%+%-]', i)
    if not a then return true end
    if string.byte(s, a) == 34 then
      local j = a + 1
      while true do
        local b = string.find(s, '["\\%z\1-\31]', j)
        if not b then return false end
        local c = string.byte(s, b)
        if c == 34 then i = b + 1; break end
        if c ~= 92 then return false end
        j = b + 2
      end
    else
      local _, e = string.find(s, '^[%w%.%+%-]+', a)
      local tok = string.sub(s, a, e)
      if tok ~= 'true' and tok ~= 'false' and tok ~= 'null' and not strict_number(tok) then return false end
      i = e + 1
    end
  end
end

local function jid_identity(v)
  if type(v) == 'string' then
    if #v <= 255 and string.find(v, '^[!-~]+$') then return v end
  elseif type(v) == 'number' then
    if v == math.floor(v) and v >= -9007199254740991 and v <= 9007199254740991 then
      if v == 0 then return '0' end
      return string.format('%.0f', v)
    end
  end
  return nil
end

local function decode_payload(raw)
  if string.find(raw, '^[ \t\r\n]*{') then
    local ok, job = pcall(cjson.decode, raw)
    if ok and type(job) == 'table' and strict_json(raw) then
      return job, jid_identity(job.jid) or redis.sha1hex(raw)
    end
  end
  return nil, redis.sha1hex(raw)
end
