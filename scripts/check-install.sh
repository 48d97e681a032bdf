#!/usr/bin/env bash
# Installs ustack as a C library into a temporary prefix and checks it the way an embedder uses
# it: the file list (also staged with DESTDIR), self-contained public headers that leak no
# internal macro, the shared libraries' sonames and exported symbols (exactly the public API),
# the pkg-config files, the tool's --version and manual page; then builds every examples/ program
# against the installed library with pkg-config, shared and static, and runs them: two_stacks
# must move its data intact over a lossy in-memory link; echo_tap, as root, echoes what the Linux
# kernel sends it through a TAP device (tests/interop/example_echo_tap.sh).
# Prints each check; exits 1 if any failed. Run after `make` (make install-check does both).
set -u
cd "$(dirname "$0")/.."
CC=${CC:-cc}
fails=0
ok() { echo "install: ok: $*"; }
bad() { echo "install: FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d /tmp/ustack-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
P=$tmp/prefix
version=$(sed -n 's/^#define USTACK_VERSION_STRING "\(.*\)"/\1/p' include/ustack/version.h)
major=${version%%.*}

if ! make --no-print-directory -s install PREFIX="$P" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"; bad "make install PREFIX=$P"; exit 1
fi
make --no-print-directory -s install PREFIX=/usr/local DESTDIR="$tmp/stage" >/dev/null 2>&1 ||
    bad "make install DESTDIR=$tmp/stage"
(cd "$P" && find . | sort) >"$tmp/files"
(cd "$tmp/stage/usr/local" 2>/dev/null && find . | sort) >"$tmp/staged"
cmp -s "$tmp/files" "$tmp/staged" && ok "DESTDIR staging installs the same $(wc -l <"$tmp/files") paths" ||
    bad "DESTDIR staging installs different files: $(diff "$tmp/files" "$tmp/staged" | head -5)"
for f in bin/ustack include/ustack.h include/ustack_client.h include/ustack/types.h \
    include/ustack/version.h include/ustack/tap.h include/ustack/wire.h include/ustack/pcap.h \
    lib/libustack.a lib/libustack-client.a lib/libustack.so lib/libustack.so.$major \
    lib/libustack.so.$version lib/libustack-client.so lib/libustack-client.so.$major \
    lib/libustack-client.so.$version lib/pkgconfig/ustack.pc lib/pkgconfig/ustack-client.pc \
    share/man/man8/ustack.8; do
    [ -e "$P/$f" ] || bad "not installed: $f"
done

# Headers: each compiles alone (C11 and C++), quoting nothing from the source tree, and no
# internal macro comes with them.
hdrs=(ustack.h ustack_client.h $(cd "$P/include" && ls ustack/*.h))
for h in "${hdrs[@]}"; do
    printf '#include <%s>\nint ustack_header_check_;\n' "$h" >"$tmp/h.c"
    $CC -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$P/include" "$tmp/h.c" 2>"$tmp/h.err" ||
        bad "$h does not compile on its own: $(head -3 "$tmp/h.err")"
    if command -v c++ >/dev/null; then
        c++ -Wall -Wextra -Werror -fsyntax-only -x c++ -I"$P/include" "$tmp/h.c" 2>"$tmp/h.err" ||
            bad "$h does not compile as C++: $(head -3 "$tmp/h.err")"
    fi
    grep -q '#include "' "$P/include/$h" && bad "$h includes a file with quotes (from the tree)"
done
printf '#include <%s>\n' "${hdrs[@]}" | $CC -std=c11 -E -dM -I"$P/include" -x c - >"$tmp/macros"
leaked=$(grep -oE '#define (US_MIN|US_MAX|US_ASSERT|US_ARRAY_LEN|US_DEBUG)\b' "$tmp/macros")
[ -z "$leaked" ] && ok "${#hdrs[@]} public headers compile alone (C11, C++) and leak no internal macro" ||
    bad "public headers define internal macros: $leaked"

# Shared libraries: soname, and exactly the public API exported.
for l in libustack libustack-client; do
    so=$(readelf -d "$P/lib/$l.so.$version" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
    [ "$so" = "$l.so.$major" ] && ok "$l.so.$version has soname $so" || bad "$l soname is '$so'"
done
bash scripts/check-exports.sh "$P/lib/libustack.so.$version" "$P/include" ustack.h \
    $(cd "$P/include" && ls ustack/*.h) || fails=$((fails + 1))
bash scripts/check-exports.sh "$P/lib/libustack-client.so.$version" "$P/include" ustack_client.h ||
    fails=$((fails + 1))

# pkg-config, the tool, the manual page.
export PKG_CONFIG_PATH=$P/lib/pkgconfig
for m in ustack ustack-client; do
    v=$(pkg-config --modversion $m 2>&1)
    [ "$v" = "$version" ] && ok "pkg-config $m: $v, $(pkg-config --cflags --libs $m)" ||
        bad "pkg-config --modversion $m: '$v'"
done
v=$("$P/bin/ustack" --version)
[ "$v" = "ustack $version" ] && ok "ustack --version: $v" || bad "ustack --version printed '$v'"
if command -v groff >/dev/null; then
    w=$(groff -man -Tutf8 -ww "$P/share/man/man8/ustack.8" 2>&1 >/dev/null)
    [ -z "$w" ] && ok "ustack.8 renders without warnings" || bad "groff warns on ustack.8: $w"
    # Every subcommand and every option tools/ustack.c parses appears in the rendered page.
    txt=$(groff -man -Tascii -P-c -P-b -P-u "$P/share/man/man8/ustack.8" 2>/dev/null)
    subs=$(sed -n 's/^    if (strcmp(cmd, "\([a-z]*\)") == 0)$/\1/p' tools/ustack.c)
    longs=$(grep -oE '\{"[a-z-]+", [01],' tools/ustack.c | sed -E 's/\{"([a-z-]+)".*/--\1/' | sort -u)
    shorts=$(grep -oE 'getopt_long\(argc, argv, "[a-zA-Z:]+"' tools/ustack.c |
        sed -E 's/.*"([a-zA-Z:]+)"/\1/' | tr -d ':' | fold -w1 | sed 's/^/-/' | sort -u)
    n=0 miss=0
    for w in $(sed 's/^/ustack_/' <<<"$subs") $longs $shorts; do
        n=$((n + 1))
        w=${w/ustack_/ustack }
        grep -qE -- "(^|[][ |,])$w([^a-zA-Z-]|\$)" <<<"$txt" ||
            { bad "ustack.8 does not mention '$w'"; miss=$((miss + 1)); }
    done
    [ "$n" -gt 20 ] && [ $miss -eq 0 ] && ok "ustack.8 covers the $n subcommands and options tools/ustack.c parses" ||
        { [ "$n" -gt 20 ] || bad "found only $n subcommands and options in tools/ustack.c"; }
else
    echo "install: SKIP: groff not installed, manual page not rendered"
fi

# A client program builds against ustack-client alone.
printf '#include <ustack_client.h>\nint main(void) { return usc_default_path("x")[0] != 0x78; }\n' >"$tmp/cl.c"
# shellcheck disable=SC2046
if $CC -std=c11 -Wall -Werror "$tmp/cl.c" $(pkg-config --cflags --libs ustack-client) -o "$tmp/cl" &&
    LD_LIBRARY_PATH=$P/lib "$tmp/cl"; then
    ok "a client program links with pkg-config ustack-client and runs"
else
    bad "a client program does not build or run against ustack-client"
fi

# The examples, against the installed library: shared, then static.
for kind in shared static; do
    out=$tmp/ex-$kind
    st=0; [ $kind = static ] && st=1
    if ! make --no-print-directory -s -C examples OUT="$out" STATIC=$st CC="$CC" >"$tmp/ex.log" 2>&1; then
        bad "examples do not build against the installed library ($kind):"; cat "$tmp/ex.log"
        continue
    fi
    needed=$(readelf -d "$out/two_stacks" | grep -c 'NEEDED.*libustack\.so\.' || true)
    want=1; [ $kind = static ] && want=0
    [ "$needed" = $want ] || bad "two_stacks ($kind) needs libustack.so $needed times, expected $want"
    if LD_LIBRARY_PATH=$P/lib "$out/two_stacks" >"$tmp/two.out" 2>&1 &&
        grep -q "^two_stacks: ok" "$tmp/two.out"; then
        ok "examples built with pkg-config ($kind); two_stacks: $(sed -n 's/^two_stacks: received //p' "$tmp/two.out")"
    else
        bad "two_stacks ($kind) failed:"; cat "$tmp/two.out"
    fi
done
# A perfect link too, and a transfer that cannot finish must fail (the check can fail).
LD_LIBRARY_PATH=$P/lib "$tmp/ex-shared/two_stacks" 1000000 "" >/dev/null ||
    bad "two_stacks over a perfect link failed"
if LD_LIBRARY_PATH=$P/lib "$tmp/ex-shared/two_stacks" 100000 "loss=1" >/dev/null; then
    bad "two_stacks reported success over a link that loses every frame"
else
    ok "two_stacks fails over a link that loses every frame"
fi

# A machine without libpcap-dev: `make` names the package instead of failing in the compiler
# (a compiler wrapper that cannot find pcap/pcap.h stands in for that machine).
cat >"$tmp/nopcap-cc" <<'CC'
#!/bin/sh
src=$(cat)
case "$src" in *pcap/pcap.h*) echo "fatal error: pcap/pcap.h: No such file or directory" >&2; exit 1 ;; esac
printf '%s\n' "$src" | cc "$@"
CC
chmod +x "$tmp/nopcap-cc"
msg=$(make --no-print-directory CC="$tmp/nopcap-cc" REL="$tmp/b/rel" PIC="$tmp/b/pic" 2>&1)
if [ $? -ne 0 ] && grep -q "apt-get install libpcap-dev" <<<"$msg" && [ ! -e "$tmp/b/rel" ]; then
    ok "make without pcap/pcap.h stops before compiling and says: apt-get install libpcap-dev"
else
    bad "make without pcap/pcap.h did not name libpcap-dev:"; echo "$msg" | head -5
fi

if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
    for kind in shared static; do
        if LD_LIBRARY_PATH=$P/lib ECHO_TAP=$tmp/ex-$kind/echo_tap \
            bash tests/interop/example_echo_tap.sh "$P/bin/ustack" >"$tmp/echo.log" 2>&1; then
            ok "echo_tap ($kind) echoes the kernel's TCP: $(grep -c 'echoed' "$tmp/echo.log") transfers"
        else
            bad "echo_tap ($kind) against the kernel:"; cat "$tmp/echo.log"
        fi
    done
else
    echo "install: SKIP: echo_tap against the kernel needs root and /dev/net/tun"
fi

if [ $fails -eq 0 ]; then echo "install: all checks passed"; else echo "install: $fails check(s) failed"; fi
[ $fails -eq 0 ]
