#!/usr/bin/env bash
# Checks, before anything compiles, that the build's dependencies are installed, and names the
# Debian packages that are missing. Usage: check-build-deps.sh build|test  (CC from the
# environment). `make deps` (as root) installs everything the build and the tests need.
set -u
what=${1:-build}
CC=${CC:-cc}
missing=()
# has_header HEADER PACKAGE: the compiler finds HEADER, else PACKAGE is missing.
has_header() {
    printf '#include <%s>\n' "$1" | $CC -E -x c - >/dev/null 2>&1 || missing+=("$2 ($1)")
}
if ! command -v "${CC%% *}" >/dev/null 2>&1; then
    missing+=("build-essential (a C compiler: $CC)")
else
    has_header stdio.h "build-essential"
    has_header pcap/pcap.h "libpcap-dev"
    has_header resolv.h "libc6-dev"
    has_header zlib.h "zlib1g-dev"
fi
if [ "$what" = test ]; then
    if ! command -v pkg-config >/dev/null 2>&1; then
        missing+=("pkg-config")
    elif ! pkg-config --exists check; then
        missing+=("check (check.pc)")
    fi
    [ ${#missing[@]} -eq 0 ] && has_header check.h "check"
fi
[ ${#missing[@]} -eq 0 ] && exit 0
{
    echo "ustack: the $what needs packages that are not installed:"
    for m in "${missing[@]}"; do echo "    $m"; done
    pkgs=$(printf '%s\n' "${missing[@]}" | cut -d' ' -f1 | sort -u | tr '\n' ' ')
    echo "On Debian 12, install them as root with:"
    echo "    apt-get install ${pkgs% }"
    echo "or run 'make deps' as root, which installs everything the build and the tests need."
} >&2
exit 1
