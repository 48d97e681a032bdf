#!/usr/bin/env bash
# ssh from the kernel side to `ustack run -- /usr/sbin/sshd -D` (sshd accepts, forks, re-execs
# itself with the connection dup2'ed onto its standard descriptors, and forks its privilege
# separation child): a remote command's output, its exit status, and 1 MB through the session
# (sha256 on both ends). sshd has its own config, host key, authorized key and pid file in $TMP
# and listens on port 2222 inside the test namespaces only. `ustack netstat -anp` shows PID/sshd
# on the listener. The same session first runs against sshd on the kernel.
. "$(dirname "$0")/lib.sh" "$@"
us_start
S=$TMP/ssh
mkdir -p "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key" || die "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -f "$S/id" || die "ssh-keygen"
cp "$S/id.pub" "$S/authorized_keys"
# sshd's privilege separation directory; made (and removed) only when missing.
if [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; CLEANUP_PATHS+=(/run/sshd); fi
head -c 1000000 /dev/urandom >"$TMP/data"

# sshd_conf FILE LISTEN: a config for one test sshd.
sshd_conf() {
    cat >"$1" <<CONF
Port 2222
ListenAddress $2
HostKey $S/host_key
PidFile $1.pid
AuthorizedKeysFile $S/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
CONF
}

SSH=(ssh -i "$S/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
     -o ConnectTimeout=10 -o LogLevel=ERROR -p 2222)

# session WHAT IP: the checks, with ssh in $NS.
session() {
    local what=$1 ip=$2 out rc
    out=$(nsx timeout 30 "${SSH[@]}" "root@$ip" 'echo "hello from $(id -un)"; echo "args: $0 $*"' 2>"$TMP/ssh.err"); rc=$?
    assert_eq 0 "$rc" "$what: ssh exit status ($(head -c 300 "$TMP/ssh.err"))"
    assert_contains "$out" "^hello from root$" "$what: remote command output"
    nsx timeout 30 "${SSH[@]}" "root@$ip" 'exit 7' 2>"$TMP/ssh.err"; rc=$?
    assert_eq 7 "$rc" "$what: the remote command's exit status comes back ($(head -c 300 "$TMP/ssh.err"))"
    out=$(nsx timeout 30 "${SSH[@]}" "root@$ip" 'sha256sum | cut -d" " -f1' <"$TMP/data" 2>"$TMP/ssh.err")
    assert_eq "$(sha "$TMP/data")" "$out" "$what: 1 MB through the session, sha256 at the remote end"
    nsx timeout 30 "${SSH[@]}" "root@$ip" "cat '$TMP/data'" >"$TMP/back" 2>"$TMP/ssh.err"
    assert_eq "$(sha "$TMP/data")" "$(sha "$TMP/back")" "$what: 1 MB back from the remote end"
    log "$what: checked a remote command's output and exit status, 1 MB each way"
}

# ---- the kernel ----
sshd_conf "$S/k.conf" "$HOST_IP"
bg "$TMP/ksshd.log" /usr/sbin/sshd -D -e -f "$S/k.conf"
wait_tcp_port 2222
session "kernel sshd" "$HOST_IP"
kill -TERM "$BG_LAST"; wait "$BG_LAST" 2>/dev/null
kfails=$FAILS

# ---- ustack run ----
make_appns
assert_appns_isolated 2222
require_us_run
sshd_conf "$S/u.conf" 0.0.0.0
us_run_bg "$TMP/usshd.log" /usr/sbin/sshd -D -e -f "$S/u.conf"
wait_run_port tcp 2222 || cat "$TMP/usshd.log"
assert_netstat_owner sshd 2222
session "ustack run sshd" "$RUN_IP"
assert_contains "$(cat "$TMP/usshd.log")" "Accepted publickey for root from $HOST_IP" "ustack run sshd: logged the kernel's address"
assert_eq 0 "$kfails" "failures in the kernel pass (test bugs)"
finish
