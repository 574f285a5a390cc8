-- limit_spec(text) -> the decoded limit of a queue (docs/limits.md): { p = key path (array of
-- field names and 0-based indexes), c = concurrency (0 = none), r = rate (0 = none), w = rate
-- window ms, m = key of a job whose path is missing, a = key of every job without a path,
-- x = longest key kept as is, P = jobs parked per call at most, R = due keys served per call at
-- most }, as src/redis/limit-calls.ts writes it; nil when it does not decode.
-- limit_key(job, spec) -> the key a decoded job is limited under. The path is walked as data
-- (nothing is evaluated); a value that is not a string or a number, or is "", gives spec.m. A string longer
-- than spec.x bytes or holding a control byte becomes "sha1:<hex>", so a key is printable and
-- holds no tab (slot records join keys with tabs).
local function limit_spec(text)
  local ok, s = pcall(cjson.decode, text or '')
  if not ok or type(s) ~= 'table' or type(s.p) ~= 'table' then return nil end
  for _, f in ipairs({ 'c', 'r', 'w', 'x', 'P', 'R' }) do
    if type(s[f]) ~= 'number' or s[f] < 0 then return nil end
  end
  if type(s.m) ~= 'string' or type(s.a) ~= 'string' then return nil end
  return s
end

local function limit_key(job, spec)
  if #spec.p == 0 then return spec.a end
  local v = job
  for _, step in ipairs(spec.p) do
    if type(v) ~= 'table' then return spec.m end
    if type(step) == 'number' then v = v[step + 1] else v = v[step] end
  end
  local s
  if type(v) == 'string' then
    s = v
  elseif type(v) == 'number' and v == v and v ~= math.huge and v ~= -math.huge then
    if v == math.floor(v) and math.abs(v) <= 9007199254740991 then
      s = (v == 0) and '0' or string.format('%.0f', v)
    else
      s = string.format('%.17g', v)
    end
  else
    return spec.m
  end
  if s == '' then return spec.m end
  if #s > spec.x or string.find(s, '[%z\1-\31\127]') then return 'sha1:' .. redis.sha1hex(s) end
  return s
end
