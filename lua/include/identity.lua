-- decode_payload(raw) -> job, identity. `job` is the decoded table when `raw` is a JSON object
-- (first non-blank byte '{', valid UTF-8, decoded by cjson, and strict JSON: cjson also takes
-- 0x10, nan, inf, +1, 01, 1., raw control bytes and invalid UTF-8, which JSON.parse refuses), else nil.
-- `identity` is the jid when it is a non-empty printable-ASCII (0x21-0x7E) string of at most
-- 255 bytes, or an integer with |n| <= 2^53-1 (decimal digits, -0 -> "0"); otherwise the sha1
-- of the bytes (of an object: of identity_bytes, so the identity survives the reap's own
-- "verk_recovered" edit). The same rule as src/job/identity.ts.
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

-- valid_utf8(s): whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no
-- surrogates, nothing above U+10FFFF), as Node's buffer.isUtf8. ASCII is skipped in one find.
local function valid_utf8(s)
  local i, n = 1, #s
  while true do
    i = string.find(s, '[\128-\255]', i)
    if not i then return true end
    local c = string.byte(s, i)
    local len, lo, hi
    if c >= 0xC2 and c <= 0xDF then len, lo, hi = 2, 0x80, 0xBF
    elseif c == 0xE0 then len, lo, hi = 3, 0xA0, 0xBF
    elseif c == 0xED then len, lo, hi = 3, 0x80, 0x9F
    elseif c >= 0xE1 and c <= 0xEF then len, lo, hi = 3, 0x80, 0xBF
    elseif c == 0xF0 then len, lo, hi = 4, 0x90, 0xBF
    elseif c >= 0xF1 and c <= 0xF3 then len, lo, hi = 4, 0x80, 0xBF
    elseif c == 0xF4 then len, lo, hi = 4, 0x80, 0x8F
    else return false end
    if i + len - 1 > n then return false end
    local b = string.byte(s, i + 1)
    if b < lo or b > hi then return false end
    for k = i + 2, i + len - 1 do
      b = string.byte(s, k)
      if b < 0x80 or b > 0xBF then return false end
    end
    i = i + len
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

-- The bytes an object's sha1 identity is taken over: `raw` without a last member
-- "verk_recovered": <digits> (the one set_recovered appends), and with the digits of every
-- other "verk_recovered": <digits> removed (set_recovered rewrites those in place).
local function identity_bytes(raw)
  local s = string.find(raw, '"verk_recovered":%d+}[ \t\r\n]*$')
  if s then
    local before, after = string.sub(raw, 1, s - 1), string.sub(raw, (string.find(raw, '}', s, true)))
    if string.find(before, ',$') then raw = string.sub(before, 1, -2) .. after
    elseif string.find(before, '^[ \t\r\n]*{[ \t\r\n]*$') then raw = before .. after end
  end
  return (string.gsub(raw, '"verk_recovered":%d+', '"verk_recovered":'))
end

local function decode_payload(raw)
  if string.find(raw, '^[ \t\r\n]*{') and valid_utf8(raw) then
    local ok, job = pcall(cjson.decode, raw)
    if ok and type(job) == 'table' and strict_json(raw) then
      return job, jid_identity(job.jid) or redis.sha1hex(identity_bytes(raw))
    end
  end
  return nil, redis.sha1hex(raw)
end
