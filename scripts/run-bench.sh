#!/usr/bin/env bash
# Builds and runs the benchmarks against the release library; prints their tables.
set -euo pipefail
CC=${CC:-cc}
mkdir -p build/rel/bench
for b in bench/*.c; do
    out=build/rel/bench/$(basename "$b" .c)
    $CC -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Isrc -Iapps -Itests "$b" tests/lib/sim.c \
        build/rel/libustack.a -lpcap -lresolv -lm -o "$out"
    echo "== $(basename "$out")"
    "$out"
done
