#!/usr/bin/env bash
# Runs test binaries, prints each result and a closing "N passed, N failed" line.
# A test that cannot run prints "SKIP <test>: <reason>" and exits 77 (tests/lib/testutil.h). A skip
# is shown as "SKIP <kind> <program>: <reason>" and fails the run unless USTACK_ALLOW_SKIP allows
# it: a comma- or space-separated list of program names (drv_tap_test,drv_pcap_test), or "all".
# CI allows none. A program that prints a SKIP line but exits 0 is a skip too.
set -u
kind=$1; shift
pass=0; fail=0; skip=0; allowed_skips=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
allow=" $(echo "${USTACK_ALLOW_SKIP:-}" | tr ',' ' ') "
skip_allowed() { [[ "$allow" == *" all "* || "$allow" == *" $1 "* ]]; }
for t in "$@"; do
    name=$(basename "$t")
    out=$("$t" 2>&1); rc=$?
    skips=$(echo "$out" | grep -E '^SKIP [^ :]+: ' || true)
    if [ "$rc" -eq 0 ] && [ -z "$skips" ]; then
        pass=$((pass + 1)); echo "PASS $kind $name: $(echo "$out" | grep -E '^[0-9]+%' | tail -1)"
    elif [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
        [ -n "$skips" ] || skips="SKIP $name: exit 77 without a reason"
        echo "$skips" | sed "s/^SKIP /SKIP $kind $name: /"
        skip=$((skip + 1))
        if skip_allowed "$name"; then
            allowed_skips=$((allowed_skips + 1))
            echo "  (skip allowed by USTACK_ALLOW_SKIP)"
        else
            echo "  (a skip fails the run; USTACK_ALLOW_SKIP=$name or =all allows it)"
        fi
    else
        fail=$((fail + 1)); echo "FAIL $kind $name"; echo "$out" | tail -40
    fi
done
# A disallowed skip counts as failed in the closing line, so nothing reads it as a pass.
fail=$((fail + skip - allowed_skips))
echo "$kind: $pass passed, $fail failed, $allowed_skips skipped"
[ "$fail" -eq 0 ]
