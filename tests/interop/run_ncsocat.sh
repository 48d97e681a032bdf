#!/usr/bin/env bash
# nc (OpenBSD) and socat under `ustack run`, TCP and UDP, both ways, against the same tools on
# the kernel side: 1 MB files and echoes byte-exact (sha256), a forking socat echo server
# (each connection served by a child process), single datagrams and a UDP echo server. Every
# exchange first runs with both ends on the kernel in the test namespace.
. "$(dirname "$0")/lib.sh" "$@"
us_start
head -c 1000000 /dev/urandom >"$TMP/data"
head -c 1400 /dev/urandom >"$TMP/dgram"
WANT=$(sha "$TMP/data")

# both_ways KIND SERVER_IP: runs every exchange; KIND is "kernel" (both ends in $NS, to prove the
# checks) or "ustack" (the ustack end under us_run; the kernel end in $NS).
both_ways() {
    local kind=$1 ip=$2 run=(us_run_t 30) p=0 rc
    [ "$kind" = kernel ] && run=(timeout -k 5 30 ip netns exec "$NS")
    # port numbers differ per pass so no TIME-WAIT or leftover can mix them up
    [ "$kind" = kernel ] && p=100

    # -- TCP: the ustack end is the client --
    log "$kind: TCP: the ustack end is the client"
    bg "$TMP/k1.log" socat -u "TCP-LISTEN:$((6001 + p)),bind=$HOST_IP,reuseaddr" "CREATE:$TMP/k1.out"
    wait_tcp_port $((6001 + p))
    "${run[@]}" nc -N "$HOST_IP" $((6001 + p)) <"$TMP/data" >/dev/null 2>"$TMP/nc.err"; rc=$?
    assert_eq 0 "$rc" "$kind: nc client -> kernel socat: exit status ($(cat "$TMP/nc.err"))"
    wait_for 5 test "$(fsize "$TMP/k1.out")" -ge 1000000
    assert_eq "$WANT" "$(sha "$TMP/k1.out")" "$kind: nc client -> kernel socat: 1 MB (got $(fsize "$TMP/k1.out"))"

    bg "$TMP/k2.log" socat -u "TCP-LISTEN:$((6002 + p)),bind=$HOST_IP,reuseaddr" "CREATE:$TMP/k2.out"
    wait_tcp_port $((6002 + p))
    "${run[@]}" socat -u "OPEN:$TMP/data" "TCP:$HOST_IP:$((6002 + p))" 2>"$TMP/socat.err"; rc=$?
    assert_eq 0 "$rc" "$kind: socat client -> kernel socat: exit status ($(cat "$TMP/socat.err"))"
    wait_for 5 test "$(fsize "$TMP/k2.out")" -ge 1000000
    assert_eq "$WANT" "$(sha "$TMP/k2.out")" "$kind: socat client -> kernel socat: 1 MB (got $(fsize "$TMP/k2.out"))"

    # an echo through the kernel's socat (data both ways on one connection)
    bg "$TMP/k3.log" socat "TCP-LISTEN:$((6003 + p)),bind=$HOST_IP,reuseaddr,fork" EXEC:cat
    wait_tcp_port $((6003 + p))
    "${run[@]}" socat -b 65536 -t 10 - "TCP:$HOST_IP:$((6003 + p))" <"$TMP/data" >"$TMP/e1.out" 2>"$TMP/socat.err"; rc=$?
    assert_eq 0 "$rc" "$kind: socat client <-> kernel echo: exit status ($(cat "$TMP/socat.err"))"
    assert_eq "$WANT" "$(sha "$TMP/e1.out")" "$kind: socat client <-> kernel echo: 1 MB back (got $(fsize "$TMP/e1.out"))"

    # -- TCP: the ustack end is the server --
    log "$kind: TCP: the ustack end is the server"
    if [ "$kind" = kernel ]; then
        bg "$TMP/u4.out" nc -l $((6004 + p))
    else
        us_run_bg "$TMP/u4.out" nc -l $((6004 + p))
    fi
    local srv=$BG_LAST
    if [ "$kind" = kernel ]; then wait_tcp_port $((6004 + p)); else wait_run_port tcp $((6004 + p)); fi
    nsx timeout 30 nc -N "$ip" $((6004 + p)) <"$TMP/data" 2>"$TMP/nc.err"; rc=$?
    assert_eq 0 "$rc" "$kind: kernel nc -> nc -l server: exit status ($(cat "$TMP/nc.err"))"
    wait_for 10 bash -c "! kill -0 $srv 2>/dev/null" || fail "$kind: nc -l did not exit after the client closed"
    assert_eq "$WANT" "$(sha "$TMP/u4.out")" "$kind: kernel nc -> nc -l server: 1 MB (got $(fsize "$TMP/u4.out"))"

    if [ "$kind" = kernel ]; then
        bg "$TMP/u5.log" socat "TCP-LISTEN:$((6005 + p)),reuseaddr,fork" EXEC:cat
        wait_tcp_port $((6005 + p))
    else
        us_run_bg "$TMP/u5.log" socat "TCP-LISTEN:$((6005 + p)),reuseaddr,fork" EXEC:cat
        wait_run_port tcp $((6005 + p))
    fi
    local i
    for i in 1 2 3; do
        nsx timeout 30 socat -b 65536 -t 10 - "TCP:$ip:$((6005 + p))" <"$TMP/data" >"$TMP/e2.out" 2>"$TMP/socat.err"; rc=$?
        assert_eq 0 "$rc" "$kind: kernel socat <-> forking socat echo server, connection $i: exit status ($(cat "$TMP/socat.err"))"
        assert_eq "$WANT" "$(sha "$TMP/e2.out")" "$kind: kernel socat <-> forking socat echo server, connection $i: 1 MB back (got $(fsize "$TMP/e2.out"))"
    done

    # -- UDP: the ustack end is the client --
    log "$kind: UDP: the ustack end is the client"
    bg "$TMP/k6.log" socat -b 65536 "UDP-RECVFROM:$((5556 + p)),bind=$HOST_IP,fork" PIPE
    wait_udp_port $((5556 + p))
    "${run[@]}" socat -b 65536 -t 2 - "UDP:$HOST_IP:$((5556 + p))" <"$TMP/dgram" >"$TMP/d1.out" 2>"$TMP/socat.err"
    assert_eq "$(sha "$TMP/dgram")" "$(sha "$TMP/d1.out")" "$kind: socat UDP client <-> kernel echo, 1400 bytes (got $(fsize "$TMP/d1.out"))"
    "${run[@]}" nc -u -w1 "$HOST_IP" $((5556 + p)) <"$TMP/dgram" >"$TMP/d2.out" 2>"$TMP/nc.err"
    assert_eq "$(sha "$TMP/dgram")" "$(sha "$TMP/d2.out")" "$kind: nc -u client <-> kernel echo, 1400 bytes (got $(fsize "$TMP/d2.out"))"

    # -- UDP: the ustack end is the server --
    log "$kind: UDP: the ustack end is the server"
    if [ "$kind" = kernel ]; then
        bg "$TMP/u7.log" socat -b 65536 "UDP-RECVFROM:$((5557 + p)),fork" PIPE
        wait_udp_port $((5557 + p))
    else
        us_run_bg "$TMP/u7.log" socat -b 65536 "UDP-RECVFROM:$((5557 + p)),fork" PIPE
        wait_run_port udp $((5557 + p))
    fi
    for i in 1 2; do
        nsx socat -b 65536 -t 2 - "UDP:$ip:$((5557 + p))" <"$TMP/dgram" >"$TMP/d3.out" 2>"$TMP/socat.err"
        assert_eq "$(sha "$TMP/dgram")" "$(sha "$TMP/d3.out")" "$kind: kernel socat UDP <-> forking socat UDP echo server, datagram $i (got $(fsize "$TMP/d3.out"))"
    done
    if [ "$kind" = kernel ]; then
        bg "$TMP/u8.out" nc -u -l $((5558 + p))
        wait_udp_port $((5558 + p))
    else
        us_run_bg "$TMP/u8.out" nc -u -l $((5558 + p))
        wait_run_port udp $((5558 + p))
    fi
    printf 'one datagram for nc\n' | nsx nc -u -w1 "$ip" $((5558 + p))
    wait_for 5 grep -q "one datagram for nc" "$TMP/u8.out" ||
        fail "$kind: nc -u -l did not print the kernel's datagram: $(cat "$TMP/u8.out")"
}

log "---- kernel: both ends on the kernel in $NS ----"
both_ways kernel "$HOST_IP"
kfails=$FAILS
log "---- ustack run: one end under ustack run in the app namespace ----"
make_appns
assert_appns_isolated
require_us_run
both_ways ustack "$RUN_IP"
assert_eq 0 "$kfails" "failures in the kernel pass (test bugs)"
finish
