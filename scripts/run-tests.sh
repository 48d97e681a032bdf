#!/usr/bin/env bash
# Runs test binaries, prints each result and a closing "N passed, N failed" line.
set -u
kind=$1; shift
pass=0; fail=0; failed=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "$@"; do
    if out=$("$t" 2>&1); then
        pass=$((pass + 1)); echo "PASS $kind $(basename "$t"): $(echo "$out" | grep -E '^[0-9]+%' | tail -1)"
    else
        fail=$((fail + 1)); failed+=("$t"); echo "FAIL $kind $(basename "$t")"; echo "$out" | tail -40
    fi
done
echo "$kind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
