#!/usr/bin/env bash
# The test runner's skip rule (scripts/run-tests.sh, tests/lib/testutil.h), on the two real tests
# that can skip: drv_tap_test run as an unprivileged user (no namespaces) and drv_pcap_test with
# tcpdump missing (US_TCPDUMP names a binary that does not exist). Each must exit 77 and print a
# SKIP line, not pass; the runner must show the SKIP, fail the run, and pass it only when
# USTACK_ALLOW_SKIP names the program or says "all". Also: a plain pass, and a program that
# prints a SKIP line but exits 0 (still a skip). Needs root (to drop to nobody).
set -u
cd "$(dirname "$0")/../.."
bin=${ASAN_DIR:-build/asan}/tests/unit
runner=scripts/run-tests.sh
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d /tmp/ust-runner-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for p in drv_tap_test drv_pcap_test; do
    [ -x "$bin/$p" ] || { echo "FAIL: no $bin/$p (build it first)"; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP runner_test: needs root to run drv_tap_test as an unprivileged user"
    exit 77
fi

# run_case WHAT EXPECTED_RC EXPECTED_PATTERN... -- RUNNER ARGS: runs the runner, checks rc + lines.
expect() {
    local what=$1 want_rc=$2 out=$3 rc=$4; shift 4
    [ "$rc" -eq "$want_rc" ] || fail "$what: runner exit $rc, expected $want_rc; output:
$out"
    local pat
    for pat in "$@"; do
        grep -Eq -- "$pat" <<<"$out" || fail "$what: no line matching /$pat/ in:
$out"
    done
}

# 1. drv_tap_test as nobody: every namespace test skips, the program exits 77.
cp "$bin/drv_tap_test" "$tmp/drv_tap_test"
chmod 755 "$tmp" "$tmp/drv_tap_test"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/drv_tap_test" 2>&1); rc=$?
[ "$rc" -eq 77 ] || fail "drv_tap_test as nobody exited $rc, expected 77: $out"
n=$(grep -c '^SKIP test_[a-z_]*: needs root' <<<"$out")
[ "$n" -ge 5 ] || fail "drv_tap_test as nobody printed $n SKIP lines, expected >= 5: $out"

# The runner, as nobody too, on drv_tap_test: visible SKIP, run fails; allowed by name or all.
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env "$@"; }
cp "$runner" "$tmp/run-tests.sh"
out=$(asnobody USTACK_ALLOW_SKIP= bash "$tmp/run-tests.sh" unit "$tmp/drv_tap_test" 2>&1); rc=$?
expect "tap skip, none allowed" 1 "$out" $rc '^SKIP unit drv_tap_test: test_[a-z_]+: needs root' \
    '^unit: 0 passed, 1 failed, 0 skipped$'
out=$(asnobody USTACK_ALLOW_SKIP=drv_pcap_test bash "$tmp/run-tests.sh" unit "$tmp/drv_tap_test" 2>&1); rc=$?
expect "tap skip, another allowed" 1 "$out" $rc '^unit: 0 passed, 1 failed, 0 skipped$'
out=$(asnobody USTACK_ALLOW_SKIP=drv_pcap_test,drv_tap_test bash "$tmp/run-tests.sh" unit "$tmp/drv_tap_test" 2>&1); rc=$?
expect "tap skip, allowed by name" 0 "$out" $rc '^SKIP unit drv_tap_test: ' \
    '^unit: 0 passed, 0 failed, 1 skipped$'
out=$(asnobody USTACK_ALLOW_SKIP=all bash "$tmp/run-tests.sh" unit "$tmp/drv_tap_test" 2>&1); rc=$?
expect "tap skip, all allowed" 0 "$out" $rc '^unit: 0 passed, 0 failed, 1 skipped$'

# 2. drv_pcap_test without tcpdump: one test skips, the other two run; exit 77; run fails.
out=$(US_TCPDUMP=/nonexistent/tcpdump "$bin/drv_pcap_test" 2>&1); rc=$?
[ "$rc" -eq 77 ] || fail "drv_pcap_test without tcpdump exited $rc, expected 77: $out"
grep -q '^SKIP test_tcpdump_reads_it: /nonexistent/tcpdump not installed' <<<"$out" ||
    fail "drv_pcap_test without tcpdump printed no SKIP line: $out"
out=$(US_TCPDUMP=/nonexistent/tcpdump USTACK_ALLOW_SKIP= bash "$runner" unit "$bin/drv_pcap_test" 2>&1); rc=$?
expect "pcap skip, none allowed" 1 "$out" $rc \
    '^SKIP unit drv_pcap_test: test_tcpdump_reads_it: /nonexistent/tcpdump not installed' \
    '^unit: 0 passed, 1 failed, 0 skipped$'
out=$(US_TCPDUMP=/usr/bin/tcpdump USTACK_ALLOW_SKIP= bash "$runner" unit "$bin/drv_pcap_test" 2>&1); rc=$?
if [ -x /usr/bin/tcpdump ]; then
    expect "pcap with tcpdump" 0 "$out" $rc '^PASS unit drv_pcap_test: 100%' \
        '^unit: 1 passed, 0 failed, 0 skipped$'
fi

# 3. Fakes: a pass; a SKIP line with exit 0 (still a skip); a plain failure.
printf '#!/bin/sh\necho "100%%: Checks: 1, Failures: 0, Errors: 0"\n' >"$tmp/ok_test"
printf '#!/bin/sh\necho "SKIP t_x: no tool" >&2\nexit 0\n' >"$tmp/quiet_test"
printf '#!/bin/sh\necho "boom"\nexit 1\n' >"$tmp/bad_test"
chmod +x "$tmp"/*_test
out=$(USTACK_ALLOW_SKIP= bash "$runner" unit "$tmp/ok_test" "$tmp/quiet_test" "$tmp/bad_test" 2>&1); rc=$?
expect "fakes" 1 "$out" $rc '^PASS unit ok_test: 100%' '^SKIP unit quiet_test: t_x: no tool' \
    '^FAIL unit bad_test' '^unit: 1 passed, 2 failed, 0 skipped$'
out=$(USTACK_ALLOW_SKIP=all bash "$runner" unit "$tmp/ok_test" "$tmp/quiet_test" 2>&1); rc=$?
expect "fakes, all allowed" 0 "$out" $rc '^unit: 1 passed, 0 failed, 1 skipped$'

if [ "$fails" -gt 0 ]; then echo "runner_test: $fails failure(s)"; exit 1; fi
echo "100%: runner_test: all checks passed"
