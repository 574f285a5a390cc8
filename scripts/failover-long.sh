#!/usr/bin/env bash
# Long variant of the failover tier (test/fault/failover.test.ts): many failovers per durability
# mode, and the old primary left to Sentinel to convert (HA_SENTINEL_REJOIN=1: with one replica
# the new primary has none until then, which durability 'replicated' pays for). Not part of
# `npm test`. Figures are appended to test/fault/results/latest.jsonl and summed up at the end;
# docs/reliability.md and docs/redis-ha.md quote them.
#   HA_ROUNDS (default 12, replicated)  HA_DEFAULT_ROUNDS (default 12)  HA_SENTINEL_REJOIN (default 1)
set -uo pipefail
cd "$(dirname "$0")/.."
export HA_ROUNDS="${HA_ROUNDS:-12}"
export HA_DEFAULT_ROUNDS="${HA_DEFAULT_ROUNDS:-12}"
export HA_SENTINEL_REJOIN="${HA_SENTINEL_REJOIN:-1}"
RESULTS=test/fault/results/latest.jsonl
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
npm run build >/dev/null || exit 1
echo "== failover tier: $HA_ROUNDS rounds replicated, $HA_DEFAULT_ROUNDS rounds default, Sentinel rejoin: $HA_SENTINEL_REJOIN"
npx vitest run test/fault/failover.test.ts --testTimeout 900000
status=$?
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map(JSON.parse);
  for (const l of lines) {
    const e = l.extra;
    console.log(`${l.scenario}: ${e.rounds} rounds, ${l.jobs} acknowledged jobs, lost ${l.lost} (${(100 * l.lost / l.jobs).toFixed(2)} %), duplicated ${l.duplicated}, stuck ${l.stuck}, stuck nodes ${e.stuck_nodes}, refused enqueues ${e.refused_enqueues}, back max ${e.back_ms_max} ms`);
    console.log(`  back_ms: ${e.back_ms}`);
    console.log(`  promote_ms: ${e.promote_ms}`);
    console.log(`  events: ${JSON.stringify(e.redis_events)}`);
  }
' "$RESULTS"
exit $status
