#!/usr/bin/env bash
# The ustack demo: the textbook picture, live. Makes a network namespace, brings ustack up on a
# TAP device inside it, and then: the kernel pings ustack, ustack pings the kernel, a UDP echo
# runs, a DNS lookup goes over ustack's UDP to a dnsmasq server, the kernel's curl downloads a
# file from ustack's HTTP server, `ustack get` downloads one from a Linux web server by name
# (DNS, TCP handshake, HTTP, close), and `ustack netstat` prints the sockets. Everything it made
# is removed at the end, also on failure or Ctrl-C.
set -euo pipefail
USTACK=${1:-build/rel/ustack}
USTACK=$(readlink -f "$USTACK")
NS=ustack-demo-$$
TAP=usdemo$$
TMP=$(mktemp -d /tmp/ustack-demo.XXXXXX)
CTL=$TMP/ustack.ctl
HOST=192.0.2.1
STACK=192.0.2.2
export USTACK_CTL=$CTL
US_PID= DNS_PID= WEB_PID=

cleanup() {
    set +e
    [ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null
    [ -n "$WEB_PID" ] && kill "$WEB_PID" 2>/dev/null
    if [ -n "$US_PID" ]; then
        kill -TERM "$US_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$US_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$US_PID" 2>/dev/null
    fi
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates a network namespace)" >&2; exit 1; }

step "A network namespace ($NS) with the kernel at $HOST and ustack at $STACK on TAP $TAP"
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
mkdir -p "$TMP/www"
echo "<h1>Hello from ustack's HTTP server</h1>" >"$TMP/www/index.html"
head -c 5000000 /dev/urandom >"$TMP/www/file.bin"
ip netns exec "$NS" "$USTACK" up --tap "$TAP" --addr $STACK/24 --host-addr $HOST/24 \
    --serve echo,discard,chargen,http="$TMP/www" --dns $HOST --ctl "$CTL" >"$TMP/ustack.log" 2>&1 &
US_PID=$!
for _ in $(seq 100); do grep -q " up " "$TMP/ustack.log" 2>/dev/null && break; sleep 0.05; done
cat "$TMP/ustack.log"
grep -q " up " "$TMP/ustack.log" || { echo "demo: ustack did not come up" >&2; exit 1; }

step "The kernel pings ustack (ARP, IP, ICMP echo), then with 8000 bytes: fragmented both ways"
ip netns exec "$NS" ping -c 3 -i 0.2 $STACK
ip netns exec "$NS" ping -c 2 -i 0.2 -s 8000 $STACK

step "ustack pings the kernel"
"$USTACK" ping -c 3 -i 0.2 $HOST

step "UDP echo: the kernel's nc sends to ustack's echo service on port 7"
echo "hello from the kernel, echoed by ustack" | ip netns exec "$NS" nc -u -w1 $STACK 7

step "DNS: ustack's stub resolver asks dnsmasq (in the namespace) over ustack's UDP"
ip netns exec "$NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
    --listen-address=$HOST --host-record=www.example.test,192.0.2.80 \
    --cname=web.example.test,www.example.test --host-record=linux.example.test,$HOST \
    --local=/example.test/ \
    --pid-file="$TMP/dnsmasq.pid" --user=root 2>"$TMP/dnsmasq.log" &
DNS_PID=$!
sleep 0.3
"$USTACK" lookup web.example.test --server $HOST

step "TCP: the kernel's curl downloads from ustack's HTTP server (handshake, data, close)"
ip netns exec "$NS" curl -s http://$STACK/
ip netns exec "$NS" curl -s -o "$TMP/got.bin" -w "curl: %{http_code}, %{size_download} bytes\n" \
    http://$STACK/file.bin
cmp "$TMP/www/file.bin" "$TMP/got.bin" && echo "identical to the file served (byte for byte)"

step "ustack get: DNS over UDP, TCP handshake, HTTP request and response, close, in one command"
(cd "$TMP/www" && exec ip netns exec "$NS" python3 -m http.server 8080 --bind $HOST) \
    >"$TMP/web.log" 2>&1 &
WEB_PID=$!
for _ in $(seq 50); do ip netns exec "$NS" ss -ltn | grep -q ":8080" && break; sleep 0.1; done
"$USTACK" get http://linux.example.test:8080/file.bin -o "$TMP/got2.bin"
cmp "$TMP/www/file.bin" "$TMP/got2.bin" && echo "identical to the file served (byte for byte)"

step "A TCP echo over ustack, from the kernel's nc"
echo "hello over TCP, echoed by ustack" | ip netns exec "$NS" nc -q1 $STACK 7

step "ustack netstat -a -i: the sockets are control blocks in ustack's memory"
# keep one connection open (the kernel's nc to ustack's discard service) so it shows up
(sleep 2 | ip netns exec "$NS" nc -q0 $STACK 9) >/dev/null 2>&1 &
NC_PID=$!
for _ in $(seq 30); do "$USTACK" netstat | grep -q ESTABLISHED && break; sleep 0.1; done
"$USTACK" netstat -a -i
wait $NC_PID 2>/dev/null || true
step "ustack netstat -s (excerpt): what each layer counted"
"$USTACK" netstat -s | grep -E "ETH_IN|IP_IN |IP_REASM_OK|IP_FRAGMENTED|ICMP_ECHO|UDP_IN|ARP_RESOLVED|TCP_(IN|OUT)_SEGS|TCP_ESTABLISHED|TCP_PASSIVE|TCP_ACTIVE|TAP_KERNEL_DROPS|Drops by reason"

step "Tearing down"
