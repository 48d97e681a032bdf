#!/usr/bin/env bash
# Runs every tests/interop/*.sh against a ustack binary (argument or $USTACK), each under a time
# limit, prints PASS/FAIL per script and a closing "interop: N passed, M failed" line.
# Each test creates and removes its own network namespace; as a safety net this runner also
# removes anything a test left behind (namespaces ust-<test pid>-*, /tmp/ust-interop.<pid>.*)
# and counts that as a failure.
set -u
cd "$(dirname "$0")/.."
bin=${1:-${USTACK:-build/asan/ustack}}
limit=${INTEROP_TIMEOUT:-120}
tests=(tests/interop/*.sh)
. scripts/leftovers.sh
pass=0; fail=0
if [ "$(id -u)" -ne 0 ]; then
    allow=" $(echo "${USTACK_ALLOW_SKIP:-}" | tr ',' ' ') "
    if [[ "$allow" == *" all "* || "$allow" == *" interop "* ]]; then
        echo "SKIP interop: needs root (network namespaces and TAP devices); allowed by USTACK_ALLOW_SKIP"
        echo "interop: 0 passed, 0 failed"
        exit 0
    fi
    echo "SKIP interop: needs root (network namespaces and TAP devices); counted as failures"
    echo "  (USTACK_ALLOW_SKIP=interop or =all allows it)"
    n=0
    for t in "${tests[@]}"; do [ "$(basename "$t")" = lib.sh ] || n=$((n + 1)); done
    echo "interop: 0 passed, $n failed"
    exit 1
fi
if [ ! -x "$bin" ]; then
    echo "interop: no ustack binary at '$bin'"
    echo "interop: 0 passed, 1 failed"
    exit 1
fi
bin=$(realpath "$bin")
for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    [ "$name" = lib ] && continue
    log=$(mktemp /tmp/ust-interop-log.XXXXXX)
    run="$$-$((pass + fail))"   # names this test's namespace (ust-$run-*) and temp dir
    t0=$(date +%s%N)
    UST_RUN=$run timeout -k 10 "$limit" bash "$t" "$bin" >"$log" 2>&1
    rc=$?
    secs=$(( ($(date +%s%N) - t0) / 100000000 )); secs="$((secs / 10)).$((secs % 10))s"
    # Safety net: the test's own trap should have removed all of these.
    leftover=$(remove_leftovers "$run")
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "  (timed out after ${limit}s)" >>"$log"
    fi
    if [ -n "$leftover" ]; then
        echo "  left behind (removed by the runner):$leftover" >>"$log"
        [ "$rc" -eq 0 ] && rc=1
    fi
    if [ "$rc" -eq 0 ]; then
        pass=$((pass + 1)); echo "PASS interop $name ($secs)"
    else
        fail=$((fail + 1)); echo "FAIL interop $name (exit $rc, $secs)"
        sed 's/^/    /' "$log" | tail -80
    fi
    rm -f "$log"
done
echo "interop: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
