-- unique-start: releases the lock of a job whose handler is starting, for until "started"
-- (docs/unique-jobs.md): only while this node still holds the job (it is in the node's
-- in-progress list) and the lock's value is the job's jid (compare-and-delete). The worker calls
-- it just before perform, only for jobs that carry such a lock: the fetch stays as it is.
-- Built from the prefix ARGV[1]: <prefix>verk:unique:<key>, <prefix>verk:uniques,
-- <prefix>verk:uniques:info.
-- KEYS[1] inprogress:<q>:<node>
-- ARGV[1] key prefix
-- ARGV[2] the payload exactly as fetched
-- ARGV[3] the unique key
-- ARGV[4] the job's jid
-- Returns 1 released, 0 the lock was not this job's (nothing changed), -1 the node no longer
-- holds the job (nothing changed).
-- @include unique-lock
if redis.call('TYPE', KEYS[1]).ok ~= 'list' or not redis.call('LPOS', KEYS[1], ARGV[2], 'RANK', -1) then return -1 end
return unique_release(ARGV[1], ARGV[3], ARGV[4])
