#!/usr/bin/env bash
# The soak run as a step of `make test`: scripts/soak.sh for SECONDS (default 300) against the
# given ustack (the ASan build), prints its summary with PASS or FAIL and a closing
# "soak: N passed, M failed" line. Not root: SKIP, which fails unless USTACK_ALLOW_SKIP names
# soak (or is "all"), as scripts/run-interop.sh does.
set -u
cd "$(dirname "$0")/.."
bin=${1:-build/asan/ustack}
secs=${2:-300}
if [ "$(id -u)" -ne 0 ]; then
    allow=" $(echo "${USTACK_ALLOW_SKIP:-}" | tr ',' ' ') "
    echo "SKIP soak: needs root (network namespaces and TAP devices)"
    if [[ "$allow" == *" all "* || "$allow" == *" soak "* ]]; then
        echo "  (skip allowed by USTACK_ALLOW_SKIP)"; echo "soak: 0 passed, 0 failed"; exit 0
    fi
    echo "  (a skip fails the run; USTACK_ALLOW_SKIP=soak or =all allows it)"
    echo "soak: 0 passed, 1 failed"; exit 1
fi
log=$(mktemp /tmp/ust-soak-log.XXXXXX)
run="$$-soak"
t0=$(date +%s)
# The run itself takes SECONDS; setup, the drain (TIME-WAIT: 60 s) and the checks take the rest.
# SOAK_RSS_PCT=10: in 5 minutes under ASan the thirds are 80 s apart and RSS swings 40-55 MiB
# with the traffic's phases (doc/soak.md); the counters are still checked exactly.
UST_RUN=$run SOAK_SECONDS=$secs SOAK_RSS_PCT=${SOAK_RSS_PCT:-10} timeout -k 10 $((secs + 600)) bash scripts/soak.sh "$bin" >"$log" 2>&1
rc=$?
. scripts/leftovers.sh
leftover=$(remove_leftovers "$run")
[ -n "$leftover" ] && { echo "  left behind (removed by the runner):$leftover" >>"$log"; [ "$rc" -eq 0 ] && rc=1; }
secs_taken=$(($(date +%s) - t0))
if [ "$rc" -eq 0 ]; then
    echo "PASS soak ${secs}s (${secs_taken}s in all)"
    sed -n '/^soak summary/,$p' "$log" | sed 's/^/    /'
    rm -f "$log"
    echo "soak: 1 passed, 0 failed"
    exit 0
fi
echo "FAIL soak ${secs}s (exit $rc, ${secs_taken}s)"
grep -E '^\[soak\] (FAIL|[0-9]+ failure)' "$log" | head -40 | sed 's/^/    /'
sed -n '/^soak summary/,$p' "$log" | sed 's/^/    /'
tail -40 "$log" | sed 's/^/    | /'
rm -f "$log"
echo "soak: 0 passed, 1 failed"
exit 1
