#!/usr/bin/env bash
# Runs every test suite once and ends with one plain line: "tests: N passed, N failed, N skipped".
# Unit and end-to-end tests (vitest), then remote_lib's own tests (pytest).
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# vitest's global setup brings the test hosts up; they stay up for remote_lib's real-Ray tests and
# are removed at the end (unless NOKUBE_KEEP_HOSTS=1).
keep=${NOKUBE_KEEP_HOSTS:-}
NOKUBE_KEEP_HOSTS=1 npx vitest run --reporter=default --reporter=json --outputFile.json="$out/vitest.json"
vitest_rc=$?
python3 -m pytest -q -rs remote_lib/tests --junitxml="$out/pytest.xml"
pytest_rc=$?
if [ "$(id -u)" = 0 ] && [ "$keep" != 1 ]; then
  bash scripts/testhosts.sh down >/dev/null 2>&1 || true
fi

node - "$out/vitest.json" "$out/pytest.xml" <<'JS'
const fs = require('fs');
let passed = 0, failed = 0, skipped = 0;
try {
  const v = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  passed += v.numPassedTests; failed += v.numFailedTests + (v.numRuntimeErrorTestSuites ?? 0);
  skipped += v.numPendingTests + v.numTodoTests;
} catch { failed += 1; console.error('vitest wrote no report'); }
try {
  const x = fs.readFileSync(process.argv[3], 'utf8');
  const tag = /<testsuite [^>]*>/.exec(x)[0];
  const attr = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(tag)[1]);
  const [e, f, s, t] = ['errors', 'failures', 'skipped', 'tests'].map(attr);
  passed += t - e - f - s; failed += e + f; skipped += s;
} catch { failed += 1; console.error('pytest wrote no report'); }
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
JS
[ "$vitest_rc" = 0 ] && [ "$pytest_rc" = 0 ]
