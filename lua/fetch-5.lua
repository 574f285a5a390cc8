-- fetch: moves up to N jobs from a queue into this node's in-progress list, oldest first
-- (docs/reliability.md, "Who owns a job"), at most a byte budget's worth (the caller bounds the
-- count too: src/config/defaults.ts, SCRIPT_BOUNDS). Refuses when the node's heartbeat key is
-- gone (it was reaped or expired: it must fence itself) and fetches nothing from a queue paused
-- cluster-wide. Builds no key from a prefix.
-- KEYS[1] queue:<q>
-- KEYS[2] inprogress:<q>:<node>
-- KEYS[3] verk:node:<node>          heartbeat key
-- KEYS[4] verk:node:<node>:queues   queues this node may hold in-progress lists for
-- KEYS[5] verk:paused               set of paused queue names
-- ARGV[1] N (max jobs to move)
-- ARGV[2] queue name
-- ARGV[3] "1" to record the queue in KEYS[4] (first fetch of this queue by this node)
-- ARGV[4] byte budget: stop taking jobs once their payloads add up to this (at least one is taken)
-- Returns { status, job... }: status 1 = ok, 0 = queue paused, -1 = fenced. An in-progress key
-- of another type is an error (the jobs stay in the queue).
-- @include fetch-into
local out = { 0 }
out[1] = fetch_into(out, KEYS[1], KEYS[2], KEYS[3], KEYS[5], ARGV[2], tonumber(ARGV[1]), ARGV[3] == '1' and KEYS[4] or nil, tonumber(ARGV[4]))
return out
