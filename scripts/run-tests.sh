#!/usr/bin/env bash
# Runs every test suite once and ends with one plain line: "tests: N passed, N failed, N skipped".
#
# Unit tests (vitest) first. As root, the end-to-end files are then split into groups that run at the
# same time, each in its own sandbox (scripts/sandbox.sh: a private network + mount namespace with its
# own test hosts), and remote_lib's tests (pytest) run in the first group's sandbox while its hosts are
# still up (its real-Ray tests need them). Not root: e2e tests skip loudly (they fail with CI=true).
#
#   NOKUBE_E2E_GROUPS=N   how many e2e groups run at once (default 2: the machine has 2 cores)
#   NOKUBE_E2E_FILES="a b" only these e2e files
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
reports=()

npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$out/unit.json"
unit_rc=$?
reports+=("$out/unit.json")

rc=$unit_rc
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ] && [ "${NOKUBE_SKIP_E2E:-}" != 1 ]; then
  bash scripts/setup-test-env.sh || exit 1
  # Seconds each file took in CI (rough): groups are balanced by these; a new file counts as 120.
  declare -A weight=(
    [lifecycle]=120 [init]=100 [action]=60 [ssh]=30 [network]=300 [install]=400 [rollout]=290 [faults]=300 [old-ray]=240
    [hosts]=100 [package]=110 [status-resources]=150 [environment]=420 [network-check]=420 [supervision]=600
    [head-restart]=700 [systemd]=113
  )
  files=(${NOKUBE_E2E_FILES:-$(ls __tests__/e2e/*.test.ts)})
  groups=${NOKUBE_E2E_GROUPS:-2}
  [ "${#files[@]}" -lt "$groups" ] && groups=${#files[@]}
  declare -a load members
  for ((g = 0; g < groups; g++)); do load[g]=0; members[g]=""; done
  # heaviest first, each to the lightest group
  sorted=$(for f in "${files[@]}"; do b=$(basename "$f" .test.ts); echo "${weight[$b]:-120} $f"; done | sort -rn)
  while read -r w f; do
    [ -n "$f" ] || continue
    best=0
    for ((g = 1; g < groups; g++)); do [ "${load[g]}" -lt "${load[best]}" ] && best=$g; done
    load[best]=$((load[best] + w)); members[best]="${members[best]} $f"
  done <<<"$sorted"

  pids=()
  for ((g = 0; g < groups; g++)); do
    # the first group also runs remote_lib's tests on its hosts before they go
    after=true
    [ "$g" = 0 ] && after="python3 -m pytest -q -rs remote_lib/tests --junitxml=$out/pytest.xml"
    echo "e2e group $((g + 1))/$groups:${members[g]}"
    scripts/sandbox.sh "ci-e2e-$g" -- bash -c '
      NOKUBE_KEEP_HOSTS=1 npx vitest run --project e2e --reporter=default --reporter=json \
        --outputFile.json="$1" "${@:3}"; v=$?
      eval "$2"; p=$?
      [ "$v" = 0 ] && [ "$p" = 0 ]' e2e "$out/e2e-$g.json" "$after" ${members[g]} \
      > >(sed -u "s/^/[e2e $((g + 1))] /") 2>&1 &
    pids+=($!)
    reports+=("$out/e2e-$g.json")
    sleep 5 # let the first group's installs (setup-test-env) settle before the next one starts
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
else
  NOKUBE_KEEP_HOSTS=1 npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json="$out/e2e.json"
  [ $? = 0 ] || rc=1
  reports+=("$out/e2e.json")
  python3 -m pytest -q -rs remote_lib/tests --junitxml="$out/pytest.xml" || rc=1
fi

node - "$out/pytest.xml" "${reports[@]}" <<'JS'
const fs = require('fs');
let passed = 0, failed = 0, skipped = 0;
const [xml, ...jsons] = process.argv.slice(2);
for (const file of jsons) {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8'));
    passed += v.numPassedTests; failed += v.numFailedTests + (v.numRuntimeErrorTestSuites ?? 0);
    skipped += v.numPendingTests + v.numTodoTests;
  } catch { failed += 1; console.error(`vitest wrote no report (${file})`); }
}
try {
  const x = fs.readFileSync(xml, 'utf8');
  const tag = /<testsuite [^>]*>/.exec(x)[0];
  const attr = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(tag)[1]);
  const [e, f, s, t] = ['errors', 'failures', 'skipped', 'tests'].map(attr);
  passed += t - e - f - s; failed += e + f; skipped += s;
} catch { failed += 1; console.error('pytest wrote no report'); }
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
JS
exit "$rc"
