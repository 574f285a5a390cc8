-- ack-limited: the ack of a queue with a cluster-wide limit (docs/limits.md): removes finished
-- jobs as ack-6 does (lua/include/ack-remove.lua), releases the slot of each job it removed (and
-- only of those: a zombie's late ack finds no job and releases nothing), counts them, then refills
-- through the take of fetch-limited (due keys first: a freed key's next job starts here). The
-- caller bounds a call by jobs and bytes as for ack-6.
-- Built from the prefix ARGV[5]: <prefix>verk:limit:<q>:held|ready|keys|parked:<key>|rate:<key> and <prefix>verk:node:<node>:slots (lua/include/limit-*.lua); with the lock tail, <prefix>verk:unique:<key>,
-- <prefix>verk:uniques and <prefix>verk:uniques:info (the prefix the tail names).
-- KEYS[1] inprogress:<q>:<node>
-- KEYS[2] stat:processed
-- KEYS[3] stat:processed:<q>
-- KEYS[4] verk:node:<node>   heartbeat key (its :slots hash holds the node's slot records)
-- KEYS[5] queue:<q>
-- KEYS[6] verk:paused
-- ARGV[1] refill: max jobs to take after the ack (0 = ack only)
-- ARGV[2] queue name
-- ARGV[3] refill byte budget
-- ARGV[4] tombstone: any bytes different from every job named by its bytes below
-- ARGV[5] key prefix
-- ARGV[6] the limit (JSON, lua/include/limit-key.lua)
-- ARGV[7..] the jobs, three arguments each: a spec and the payload or marker as in ack-6, and the
--           job's identity (src/job/identity.ts: the slot record's name); then, optionally, the
--           unique-lock tail of ack-6 ("U", the prefix, "<n>:<jid>" and key pairs)
-- Returns { removed, node_alive (1/0), refill status (1 ok, 0 paused, -1 fenced, 2 not asked),
-- m, the numbers of the m jobs named by hash and not found, job... } as ack-6, or
-- { 'wrongtype', key } (nothing written) when a limit key has another type; with a refill, a key
-- of another type is an error before any write (the fencing and pause checks come after the ack).
-- @include held-job
-- @include unique-lock
-- @include ack-remove
-- @include key-types
-- @include identity
-- @include redis-time
-- @include limit-key
-- @include limit-release
-- @include limit-take
local spec = limit_spec(ARGV[6])
if not spec then return redis.error_reply('ack-limited: the limit (ARGV[6]) does not decode') end
local prefix, q, slots = ARGV[5], ARGV[2], KEYS[4] .. ':slots'
local want = tonumber(ARGV[1])
local now = now_ms()
-- The refill's take checks the keys it writes (a superset of the release's) before any write.
local L, status
if want > 0 then
  L = limit_ctx(prefix, q, KEYS[5], KEYS[1], KEYS[4], KEYS[6], spec, now)
  status = limit_open(L)
  if type(status) == 'table' then return redis.error_reply(status[1]) end
end
if status ~= 1 then
  local wrong = first_wrong_type(limit_release_checks(prefix, q, slots, {}))
  if wrong then return { 'wrongtype', wrong } end
end
local last, release_locks = ack_lock_tail(7, 3)
local gone = {}
local removed, missing, jobs = ack_remove(KEYS[1], ARGV[4], 7, 3, function(i)
  limit_release(prefix, slots, q, ARGV[i + 2], now)
  gone[(i - 7) / 3 + 1] = true
end, last)
if type(removed) == 'table' then return removed end
release_locks(gone)
local out = ack_reply(removed, missing, jobs, KEYS[2], KEYS[3], KEYS[4])
if want == 0 then return out end
out[3] = status
if status == -1 then out[2] = 0 end
if status ~= 1 then return out end
-- A key of another type stops the refill (its job stays in the queue): the ack is done and its
-- reply must reach the worker; the next fetch meets the key and errs with nothing taken.
limit_take(L, out, want, tonumber(ARGV[3]))
return out
