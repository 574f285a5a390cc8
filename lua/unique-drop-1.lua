-- unique-drop: deletes a queued or set job by hand (`verk queue delete`, `verk retry|schedule|dead
-- delete`, the dashboard's delete buttons) and releases the unique lock its payload carries, in
-- one call (docs/unique-jobs.md): only a job this call removed releases, and only a lock whose
-- value is its jid (a ttl lock only expires). Used only for payloads that carry "verk_unique";
-- others are deleted as before (LREM / ZREM).
-- Built from the prefix ARGV[1]: <prefix>verk:unique:<key>, <prefix>verk:uniques,
-- <prefix>verk:uniques:info.
-- KEYS[1] queue:<q> (list), or retry, schedule or dead (sorted set)
-- ARGV[1] key prefix
-- ARGV[2] the member exactly as read
-- Returns { removed, released } (removed: copies of the member removed; released: 1/0), or
-- { 'wrongtype', key } when KEYS[1] is neither a list nor a sorted set (nothing written).
-- @include identity
-- @include unique-lock
local t = redis.call('TYPE', KEYS[1]).ok
local removed = 0
if t == 'list' then
  removed = redis.call('LREM', KEYS[1], 0, ARGV[2])
elseif t == 'zset' then
  removed = redis.call('ZREM', KEYS[1], ARGV[2])
elseif t ~= 'none' then
  return { 'wrongtype', KEYS[1] }
end
if removed == 0 then return { 0, 0 } end
return { removed, unique_release_job(ARGV[1], (decode_payload(ARGV[2]))) }
