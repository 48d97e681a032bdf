#!/usr/bin/env bash
# Shows that the layer check bites: in a copy of the tree it adds, one at a time, an upward call
# (IP calling UDP), a sideways call (UDP calling TCP), a call from the core into a layer, an
# include of a higher layer's header, and file-scope mutable state, and expects the check to
# name each. The unmodified copy must pass. Uses the release objects in build/rel.
set -u
cd "$(dirname "$0")/.."
objs=${1:-build/rel}
CC=${CC:-cc}
tmp=$(mktemp -d /tmp/ust-layers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
fresh() {
    rm -rf "$tmp/tree"; mkdir -p "$tmp/tree"
    cp -r src apps include scripts "$tmp/tree/"
    rm -rf "$tmp/obj"; mkdir -p "$tmp/obj"; cp -r "$objs/src" "$objs/apps" "$tmp/obj/"
}
rebuild() { # FILE: compile one file of the copy into the copy's objects
    (cd "$tmp/tree" && $CC -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -Iapps -O2 -c "$1" \
        -o "$tmp/obj/${1%.c}.o") || { echo "cannot compile $1"; exit 1; }
}
expect() { # NAME PATTERN: the check must fail and print PATTERN
    local out
    out=$(python3 "$tmp/tree/scripts/check-layers.py" "$tmp/obj" 2>&1)
    if [ $? -ne 0 ] && grep -qF -- "$2" <<<"$out"; then
        pass=$((pass + 1)); echo "PASS check-layers catches $1"
    else
        fail=$((fail + 1)); echo "FAIL check-layers missed $1 (wanted: $2)"; echo "$out" | tail -5
    fi
}

fresh
if python3 "$tmp/tree/scripts/check-layers.py" "$tmp/obj" >/dev/null; then
    pass=$((pass + 1)); echo "PASS check-layers accepts the tree as it is"
else
    fail=$((fail + 1)); echo "FAIL check-layers rejects the unmodified tree"
fi

# The call is declared by hand, so no #include shows it: only the symbols can.
fresh
printf '\nvoid us_udp_destroy(struct us_stack *st);\nvoid us_probe_up(struct us_stack *st);\nvoid us_probe_up(struct us_stack *st) { us_udp_destroy(st); }\n' >>"$tmp/tree/src/ip/icmp.c"
rebuild src/ip/icmp.c
expect "an upward call (ip -> udp)" "src/ip/icmp.c (ip) uses udp: us_udp_destroy"

fresh
printf '\nvoid us_tcp_poll(struct us_stack *st, us_time_t now);\nvoid us_probe_side(struct us_stack *st);\nvoid us_probe_side(struct us_stack *st) { us_tcp_poll(st, 0); }\n' >>"$tmp/tree/src/udp/udp.c"
rebuild src/udp/udp.c
expect "a sideways call (udp -> tcp)" "src/udp/udp.c (udp) uses tcp: us_tcp_poll"

fresh
printf '\nint us_link_init(struct us_stack *st);\nvoid us_probe_core(struct us_stack *st);\nvoid us_probe_core(struct us_stack *st) { us_link_init(st); }\n' >>"$tmp/tree/src/core/core.c"
rebuild src/core/core.c
expect "a call from the core into a layer" "src/core/core.c (core) uses link: us_link_init"

fresh
sed -i 's|#include "link/link.h"|#include "link/link.h"\n#include "tcp/tcp.h"|' "$tmp/tree/src/link/eth.c"
expect "an include of a higher layer" "src/link/eth.c (link) uses tcp: #include \"tcp/tcp.h\""

fresh
printf '\nstatic int us_probe_counter;\n' >>"$tmp/tree/src/ip/route.c"
expect "file-scope mutable state" "src/ip/route.c:"

echo "check-layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
