#!/usr/bin/env bash
# Long variants of the fault-injection tier (test/fault): more jobs, a longer half-open outage,
# several repetitions. Not part of `npm test` (minutes, not seconds). Figures are appended to
# test/fault/results/latest.jsonl (one JSON line per scenario run) and summed up at the end;
# docs/reliability.md ("Fault injection: what was measured") quotes them.
#   FAULT_REPEAT (default 3)  FAULT_JOBS (default 2000)  FAULT_OUTAGE_MS (default 5000)
set -uo pipefail
cd "$(dirname "$0")/.."
REPEAT="${FAULT_REPEAT:-3}"
export FAULT_JOBS="${FAULT_JOBS:-2000}"
export FAULT_OUTAGE_MS="${FAULT_OUTAGE_MS:-5000}"
RESULTS=test/fault/results/latest.jsonl
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
npm run build >/dev/null || exit 1
failed=0
for i in $(seq 1 "$REPEAT"); do
  echo "== fault tier, run $i of $REPEAT (jobs $FAULT_JOBS, half-open outage $FAULT_OUTAGE_MS ms)"
  npx vitest run test/fault --testTimeout 300000 || failed=$((failed + 1))
done
echo "== runs with a failing scenario: $failed of $REPEAT"
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map(JSON.parse);
  const by = new Map();
  for (const l of lines) { const s = by.get(l.scenario) ?? []; s.push(l); by.set(l.scenario, s); }
  for (const [name, runs] of by) {
    const sum = (k) => runs.reduce((n, r) => n + r[k], 0);
    console.log(`${name}: ${runs.length} runs, ${sum("jobs")} jobs, lost ${sum("lost")}, duplicated ${sum("duplicated")}, stuck ${sum("stuck")}, not done ${sum("jobs") - sum("done")}`);
  }
' "$RESULTS"
exit $(( failed > 0 ))
