-- ack: removes finished jobs from this node's in-progress list and counts them (docs/reliability.md,
-- "Who owns a job"), then, in the same call, refills the freed slots from the queue (the fetch of
-- fetch-5.lua, shared through lua/include/fetch-into.lua, with its fencing and pause checks),
-- so a busy worker needs one round trip per batch. Each job is named by its bytes or, for big
-- payloads, by its length, a marker and its SHA-1 at the list position the worker expects it
-- (lua/include/held-job.lua); a job no longer in the list (the node was reaped and the job
-- handed back) changes nothing: the caller counts it as a fencing rejection, and retries a job
-- named by hash and not found by its bytes. Found jobs are replaced by the tombstone (LSET) and
-- all tombstones removed by one LREM, so a batch scans the list once, not once per job. The
-- caller bounds a call by jobs and bytes (src/config/defaults.ts, SCRIPT_BOUNDS), the refill by
-- jobs and bytes too. Jobs that carry a unique lock (docs/unique-jobs.md) are named again in an
-- optional tail: their lock is released (compare-and-delete) only when this call removed the job;
-- an ack without the tail sends and does exactly what it did before.
-- Built from the prefix the tail names (ARGV "U" pair): <prefix>verk:unique:<key>,
-- <prefix>verk:uniques, <prefix>verk:uniques:info.
-- KEYS[1] inprogress:<q>:<node>
-- KEYS[2] stat:processed
-- KEYS[3] stat:processed:<q>
-- KEYS[4] verk:node:<node>   heartbeat key
-- KEYS[5] queue:<q>
-- KEYS[6] verk:paused
-- ARGV[1] refill: max jobs to fetch after the ack (0 = ack only)
-- ARGV[2] queue name
-- ARGV[3] refill byte budget: stop taking jobs once their payloads add up to this
-- ARGV[4] tombstone: any bytes different from every job named by its bytes below
-- ARGV[5..] the jobs, two arguments each: a spec ("B<hint>" or "H<hint>:<len>:<off>:<sha1>") and
--           the exact payload (B) or its marker (H), as lua/include/held-job.lua describes; or
--           "R" and the exact payload: removed at once with LREM -1 (for a short list);
--           then, optionally, the lock tail: "U" and the key prefix, followed by pairs
--           "<n>:<jid>" (n: the job's number, 1-based in ARGV order) and the unique key
-- Returns { removed, node_alive (1/0), refill status (1 ok, 0 paused, -1 fenced, 2 not asked),
-- m, the numbers (1-based, in ARGV order) of the m jobs named by hash and not found, job... }.
-- @include held-job
-- @include unique-lock
-- @include ack-remove
-- @include fetch-into
local last, release_locks = ack_lock_tail(5, 2)
local gone = {}
local removed, missing, jobs = ack_remove(KEYS[1], ARGV[4], 5, 2, function(i) gone[(i - 5) / 2 + 1] = true end, last)
if type(removed) == 'table' then return removed end
release_locks(gone)
local out = ack_reply(removed, missing, jobs, KEYS[2], KEYS[3], KEYS[4])
local want = tonumber(ARGV[1])
if want == 0 then return out end
out[3] = fetch_into(out, KEYS[5], KEYS[1], KEYS[4], KEYS[6], ARGV[2], want, nil, tonumber(ARGV[3]))
if out[3] == -1 then out[2] = 0 end
return out
