#!/usr/bin/env bash
# The whole test suite: type-check, build, unit tests, real brokers + integration tests, protocol tests,
# end-to-end tests in a real VS Code. Prints one closing line "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
results=$(mktemp -d "${TMPDIR:-/tmp}/clean-streams-test.XXXXXX")
# Brokers this run starts live in a throwaway home under $results: their topics and streams never reach the
# broker a user later starts with scripts/broker (which keeps its state in .cache/brokers).
test_broker_home="$results/brokers"
failed_stage=""
started=()

cleanup() {
  for b in "${started[@]}"; do CLEAN_BROKER_HOME="$test_broker_home" bash scripts/broker stop "$b" >/dev/null 2>&1 || true; done
  rm -rf "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stage() { printf '\n=== %s ===\n' "$1"; }

# Brokers take longest to come up: start them first, in the background, and collect their URLs later.
# Beside the brokers: Apicurio Registry (schemas), Prometheus (scrapes the agent) and Alertmanager (an alert sink).
brokers=(redis kafka pulsar registry prometheus alertmanager)
for b in "${brokers[@]}"; do
  if [ -f "scripts/brokers/$b.sh" ]; then
    # A broker someone already runs is used as it is, and left running afterwards.
    if bash scripts/broker url "$b" >/dev/null 2>&1; then
      echo "${CLEAN_BROKER_HOME:-$root/.cache/brokers}" >"$results/broker-$b.home"
      (bash scripts/broker url "$b" >"$results/broker-$b.log" 2>&1; echo $? >"$results/broker-$b.rc") &
    else
      started+=("$b")
      echo "$test_broker_home" >"$results/broker-$b.home"
      (CLEAN_BROKER_HOME="$test_broker_home" bash scripts/broker start "$b" >"$results/broker-$b.log" 2>&1; echo $? >"$results/broker-$b.rc") &
    fi
  fi
done

# What the tests write to the system temp directory (their own folders, a tool's leftovers) goes into the run's
# folder, which the run removes: nothing is left behind in /tmp. (Set after the brokers start: theirs live on.)
mkdir -p "$results/tmp"
export TMPDIR="$results/tmp"

stage "type-check"
npx tsc --noEmit -p . || failed_stage+=" typecheck"

stage "build"
npm run --silent build || failed_stage+=" build"

# --test-timeout: no test can hang the run (Node 20 applies it to each test file as a whole, hence 10 min).
run_node_tests() { # name, files...
  local name=$1; shift
  [ $# -gt 0 ] || return 0
  node --import tsx --test --test-timeout="${CLEAN_TEST_TIMEOUT_MS:-600000}" --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$results/$name.tap" "$@" || failed_stage+=" $name"
}

stage "unit tests"
run_node_tests unit test/unit/*.test.ts

stage "brokers"
wait
for b in "${brokers[@]}"; do
  [ -f "scripts/brokers/$b.sh" ] || continue
  rc=$(cat "$results/broker-$b.rc" 2>/dev/null || echo 1)
  url=$(tail -n 1 "$results/broker-$b.log")
  if [ "$rc" = 0 ]; then
    echo "$b: $url"
    export "CLEAN_TEST_$(echo "$b" | tr a-z A-Z)_URL=$url"
    # Tests add scrape targets by writing files into the folder this Prometheus watches.
    [ "$b" != prometheus ] || export "CLEAN_TEST_PROMETHEUS_TARGETS=$(cat "$results/broker-$b.home")/prometheus/targets"
  else
    echo "$b: failed to start (exit $rc); its log:"; tail -n 30 "$results/broker-$b.log"
    failed_stage+=" broker-$b"
  fi
done

stage "integration tests (real brokers)"
shopt -s nullglob
run_node_tests integration test/integration/*.test.ts

stage "protocol tests (the agent over LSP)"
run_node_tests protocol test/protocol/*.test.ts

stage "hostile tests (what a hostile user can type or send)"
run_node_tests hostile test/hostile/*.test.ts

if [ -f test/e2e/run.ts ]; then
  stage "end-to-end tests (real VS Code)"
  npm run --silent test:e2e 2>&1 | tee "$results/e2e.log"
  [ "${PIPESTATUS[0]}" = 0 ] || failed_stage+=" e2e"
fi

pass=0; fail=0
for t in "$results"/*.tap; do
  p=$(grep -E '^# pass ' "$t" | tail -n 1 | awk '{print $3}'); f=$(grep -E '^# fail ' "$t" | tail -n 1 | awk '{print $3}')
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
done
if [ -f "$results/e2e.log" ]; then
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$results/e2e.log" | tail -n 1)
  pass=$((pass + $(echo "${line:-0 passed, 0 failed}" | awk '{print $1}'))); fail=$((fail + $(echo "${line:-0 passed, 0 failed}" | awk '{print $3}')))
fi
[ -z "$failed_stage" ] || { echo; echo "failed stages:$failed_stage"; [ "$fail" -gt 0 ] || fail=1; }
echo
echo "$pass passed, $fail failed"
[ -z "$failed_stage" ]
