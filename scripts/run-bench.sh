#!/usr/bin/env bash
# Builds and runs the benchmarks against the release library; prints their tables.
set -euo pipefail
CC=${CC:-cc}
mkdir -p build/rel/bench
for b in bench/*.c; do
    case $(basename "$b") in lwip_*) continue ;; esac   # standalone, built by build-lwip.sh
    out=build/rel/bench/$(basename "$b" .c)
    $CC -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Isrc -Iapps -Itests "$b" tests/lib/sim.c \
        build/rel/libustack.a -lpcap -lresolv -lm -o "$out"
    echo "== $(basename "$out")"
    "$out"
done

# lwIP TCP baseline: standalone program against Debian's liblwip-dev (not linked with ustack).
if pkg-config --exists lwip 2>/dev/null; then
    bash bench/build-lwip.sh >/dev/null
    echo "== lwip_bench"
    build/rel/bench/lwip_bench --mtu 1500
else
    echo "== lwip_bench skipped: liblwip-dev not installed"
fi
