#!/usr/bin/env bash
# Runs libFuzzer binaries for a fixed time each and fails if any finds a crash or leak.
# Usage: run-fuzz.sh build/fuzz/bin/fuzz_x ...   FUZZ_SECONDS (default 30) per target,
# FUZZ_STACK_SECONDS (default 60) for fuzz_stack. The seed corpus fuzz/corpus/<name>/ is copied
# into build/fuzz/work/<name>/ so new inputs never land in the committed seeds; crash artifacts
# go to build/fuzz/artifacts/<name>/.
set -u
secs=${FUZZ_SECONDS:-30}
stack_secs=${FUZZ_STACK_SECONDS:-60}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0; fail=0
for bin in "$@"; do
    name=$(basename "$bin")
    t=$secs
    [ "$name" = fuzz_stack ] && t=$stack_secs
    work=build/fuzz/work/$name
    art=build/fuzz/artifacts/$name
    mkdir -p "$work" "$art"
    [ -d "fuzz/corpus/$name" ] && cp -n "fuzz/corpus/$name"/* "$work"/ 2>/dev/null
    log=build/fuzz/$name.log
    if "$bin" -max_total_time="$t" -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$art/" "$work" >"$log" 2>&1; then
        pass=$((pass + 1))
        echo "PASS fuzz $name: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') execs in ${t}s"
    else
        fail=$((fail + 1))
        echo "FAIL fuzz $name (log $log, artifacts $art/)"
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -10
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
