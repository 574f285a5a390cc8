-- set_fields(json, fields): the JSON object text `json` with each top-level key named in
-- `fields` ({ {name, raw JSON value}, ... }) removed and written again at the end. Every other
-- member keeps its exact bytes (no cjson round trip: big integers and [] survive).
local function set_fields(json, fields)
  local drop = {}
  for _, f in ipairs(fields) do drop[f[1]] = true end
  local out = {}
  local n = #json
  local i = string.find(json, '{', 1, true) + 1
  local function skip_ws()
    while i <= n and string.find(' \t\r\n', string.sub(json, i, i), 1, true) do i = i + 1 end
  end
  local function skip_string()
    i = i + 1
    while i <= n do
      local c = string.byte(json, i)
      if c == 92 then i = i + 2
      elseif c == 34 then i = i + 1; return
      else i = i + 1 end
    end
  end
  while i <= n do
    skip_ws()
    local c = string.sub(json, i, i)
    if c == '}' then break end
    if c == ',' then i = i + 1; skip_ws() end
    local kstart = i
    skip_string()
    local key = cjson.decode(string.sub(json, kstart, i - 1))
    skip_ws(); i = i + 1; skip_ws()
    local depth = 0
    while i <= n do
      c = string.sub(json, i, i)
      if c == '"' then
        skip_string()
      else
        if c == '{' or c == '[' then depth = depth + 1
        elseif c == '}' or c == ']' then
          if depth == 0 then break end
          depth = depth - 1
        elseif c == ',' and depth == 0 then break end
        i = i + 1
      end
    end
    if not drop[key] then
      table.insert(out, (string.gsub(string.sub(json, kstart, i - 1), '%s+$', '')))
    end
  end
  for _, f in ipairs(fields) do
    table.insert(out, cjson.encode(f[1]) .. ':' .. f[2])
  end
  return '{' .. table.concat(out, ',') .. '}'
end
