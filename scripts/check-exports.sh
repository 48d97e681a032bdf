#!/usr/bin/env bash
# check-exports.sh LIB.so INCLUDEDIR HEADER...: the shared library's dynamic symbol table must hold exactly
# the functions the given public headers declare (their own declarations, not those of headers
# they include): nothing internal leaks, and nothing declared is missing. HEADERs are named as a
# program includes them (ustack.h, ustack/tap.h), found in INCLUDEDIR. Exit 1 on a mismatch.
set -euo pipefail
lib=$1 inc=$2; shift 2
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Declared: identifiers followed by "(" in the preprocessed headers (macros expanded, comments
# gone), counting only lines that come from the named headers themselves.
for h in "$@"; do
    printf '#include <%s>\n' "$h" |
        $CC -std=c11 -E -I"$inc" -x c - |
        awk -v want="$inc/$h" '
            /^# [0-9]+ "/ { f = $3; gsub(/"/, "", f); keep = (f == want); next }
            keep { print }'
done | grep -oE '\b[a-z_][a-z0-9_]*[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//' |
    grep -E '^usc?_' | sort -u >"$tmp/declared"
nm -D --defined-only "$lib" | awk '{print $3}' | sort -u >"$tmp/exported"
bad=0
if extra=$(comm -13 "$tmp/declared" "$tmp/exported") && [ -n "$extra" ]; then
    echo "exports: $(basename "$lib") exports names no public header declares:"
    sed 's/^/    /' <<<"$extra"
    bad=1
fi
if missing=$(comm -23 "$tmp/declared" "$tmp/exported") && [ -n "$missing" ]; then
    echo "exports: $(basename "$lib") lacks functions its public headers declare:"
    sed 's/^/    /' <<<"$missing"
    bad=1
fi
[ "$(wc -l <"$tmp/declared")" -gt 0 ] || { echo "exports: no declarations found in $*"; bad=1; }
[ $bad -eq 0 ] && echo "exports: $(basename "$lib"): $(wc -l <"$tmp/exported") symbols, exactly the public API"
exit $bad
