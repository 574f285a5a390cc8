-- Editing a JSON object's top-level members without a cjson round trip: every byte that is
-- not edited stays as it was (big integers, [], key order, invalid UTF-8 survive). Only for
-- text that decode_payload (identity.lua) accepted as an object, decoded by the caller as `job`.

-- members(json): { {kstart, key, vstart, vend}, ... } for each top-level member (kstart: the
-- key's opening quote; vstart..vend: the value's bytes, without surrounding blanks).
local function members(json)
  local out = {}
  local n = #json
  local i = string.find(json, '{', 1, true) + 1
  local function skip_ws() i = string.find(json, '[^ \t\r\n]', i) or (n + 1) end
  local function skip_string() -- i at the opening quote; ends after the closing one
    local j = i + 1
    while true do
      local b = string.find(json, '["\\]', j)
      if string.byte(json, b) == 92 then j = b + 2 else i = b + 1; return end
    end
  end
  while i <= n do
    skip_ws()
    local c = string.byte(json, i)
    if c == 125 then break end -- '}'
    if c == 44 then i = i + 1; skip_ws() end -- ','
    local kstart = i
    skip_string()
    local key = cjson.decode(string.sub(json, kstart, i - 1))
    skip_ws(); i = i + 1; skip_ws() -- ':'
    local vstart, depth = i, 0
    while true do
      local p = string.find(json, '["{}%[%],]', i)
      local b = string.byte(json, p)
      if b == 34 then
        i = p; skip_string()
      elseif b == 123 or b == 91 then
        depth = depth + 1; i = p + 1
      elseif depth == 0 then
        i = p; break -- ',' or the object's closing brace
      else
        if b ~= 44 then depth = depth - 1 end
        i = p + 1
      end
    end
    local vend = (string.find(string.sub(json, vstart, i - 1), '[ \t\r\n]*$')) + vstart - 2
    table.insert(out, { kstart, key, vstart, vend })
  end
  return out
end

-- set_fields(json, fields, job): `json` with each member named in `fields` ({ {name, raw JSON
-- value}, ... }) written at the end (earlier members of that name removed).
local function set_fields(json, fields, job)
  local added, present = {}, false
  for _, f in ipairs(fields) do
    table.insert(added, cjson.encode(f[1]) .. ':' .. f[2])
    if job[f[1]] ~= nil then present = true end
  end
  local tail = table.concat(added, ',')
  if not present then
    -- Fast path: nothing to remove; insert before the closing brace (bytes around it kept).
    local close = string.find(json, '}[ \t\r\n]*$')
    local sep = string.find(json, '^[ \t\r\n]*{[ \t\r\n]*}') and '' or ','
    return string.sub(json, 1, close - 1) .. sep .. tail .. string.sub(json, close)
  end
  local drop = {}
  for _, f in ipairs(fields) do drop[f[1]] = true end
  local out = {}
  for _, m in ipairs(members(json)) do
    if not drop[m[2]] then table.insert(out, string.sub(json, m[1], m[4])) end
  end
  table.insert(out, tail)
  return '{' .. table.concat(out, ',') .. '}'
end

-- with_fields(raw, fields, job): set_fields under pcall, checked to decode again; the
-- unedited bytes when anything goes wrong, so an edit can never lose or break a payload.
local function with_fields(raw, fields, job)
  local ok, edited = pcall(set_fields, raw, fields, job)
  if ok and type(edited) == 'string' and pcall(cjson.decode, edited) then return edited end
  return raw
end

-- set_recovered(raw, n, job): `raw` with "verk_recovered": n (n: digits). An existing member
-- (the last of that name) has its value replaced in place, else the member is appended at the
-- end, so identity_bytes (identity.lua) gives the same bytes before and after; an existing
-- value that is not plain digits is kept. Never fails: the unedited bytes when anything goes wrong.
local function set_recovered(raw, n, job)
  if job.verk_recovered == nil then return with_fields(raw, { { 'verk_recovered', n } }, job) end
  local ok, edited = pcall(function()
    local s, e = string.find(raw, '"verk_recovered":%d+}[ \t\r\n]*$')
    if s then
      local before = string.sub(raw, 1, s - 1)
      if string.find(before, ',$') or string.find(before, '^[ \t\r\n]*{[ \t\r\n]*$') then
        return before .. '"verk_recovered":' .. n .. string.sub(raw, (string.find(raw, '}', s, true)))
      end
    end
    local last
    for _, m in ipairs(members(raw)) do
      if m[2] == 'verk_recovered' then last = m end
    end
    -- A value that is not plain digits (a foreign producer's) is left alone: rewriting it would
    -- change the payload's identity.
    if not string.find(string.sub(raw, last[3], last[4]), '^%d+$') then return raw end
    return string.sub(raw, 1, last[3] - 1) .. n .. string.sub(raw, last[4] + 1)
  end)
  if ok and type(edited) == 'string' and pcall(cjson.decode, edited) then return edited end
  return raw
end
