# Shared by the benchmarks that make network namespaces of their own (run_ustack_run.sh,
# run_concurrent.sh). Source it after setting TMP (a directory of the script's own): it removes,
# on any exit, the daemon (US_PID), the processes in PIDS, everything still running in the
# namespaces made with mkns, those namespaces and TMP. A script with a process of its own to stop
# first (run_bridge_loss.sh's bridge) defines cleanup_first.
US_PID=""
PIDS=()
MADE=()
cleanup() {
    trap - EXIT INT TERM HUP
    set +e
    local p ns
    declare -F cleanup_first >/dev/null && cleanup_first
    [ -n "$US_PID" ] && kill -TERM "$US_PID" 2>/dev/null
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    # anything still running in our namespaces was started here
    for ns in "${MADE[@]}"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    for p in "${PIDS[@]}" $US_PID; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for ns in "${MADE[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP

# mkns NAME: a namespace with loopback up and IPv6 off; cleanup deletes it.
mkns() {
    ip netns add "$1"
    MADE+=("$1")
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
}

# wait_up NAME: waits (30 s at most: the machine may be busy) for the daemon US_PID to print
# its up line into $TMP/ustack.out; exits with its stderr otherwise.
wait_up() {
    for _ in $(seq 300); do
        grep -q "ustack: up on" "$TMP/ustack.out" 2>/dev/null && break
        kill -0 "$US_PID" 2>/dev/null || break
        sleep 0.1
    done
    grep -q "ustack: up on" "$TMP/ustack.out" || {
        echo "$1: ustack up failed ($(kill -0 "$US_PID" 2>/dev/null && echo "no up line in 30 s" ||
            echo "it exited")):" >&2; cat "$TMP/ustack.err" >&2; exit 1; }
}

HZ=$(getconf CLK_TCK)
# ticks PID...: their user + system time so far, in clock ticks (ip netns exec execs in place).
ticks() {
    local p t=0
    for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
    echo $t
}
# vcsw PID: its voluntary context switches so far (each a sleep, waiting for a wake-up).
vcsw() {
    awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"
}
