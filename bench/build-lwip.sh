#!/usr/bin/env bash
# Builds the lwIP TCP baseline, build/rel/bench/lwip_bench, against Debian's liblwip-dev
# (lwIP 2.1.3, unix port, NO_SYS=0). Standalone: not linked with ustack. Prints the command.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-cc}
if ! pkg-config --exists lwip 2>/dev/null; then
    echo "build-lwip.sh: liblwip-dev not installed (apt-get install -y liblwip-dev)" >&2
    exit 1
fi
mkdir -p build/rel/bench
# lwIP's headers are not -Wstrict-prototypes/-Wshadow clean; keep ours to -Wall -Wextra.
# shellcheck disable=SC2046
cmd=("$CC" -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror $(pkg-config --cflags lwip)
     bench/lwip_bench.c -o build/rel/bench/lwip_bench $(pkg-config --libs lwip))
echo "${cmd[*]}"
"${cmd[@]}"
