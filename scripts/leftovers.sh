# Sourced by the test runners. remove_leftovers RUN: the safety net after a test whose own trap
# should have removed everything it made: kills what still runs in namespaces ust-RUN-*, deletes
# them and the temp dirs /tmp/ust-interop.RUN.*, and prints what it removed (nothing: all clean).
remove_leftovers() {
    local ns p d out=""
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^ust-$1-" || true); do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
        out="$out netns:$ns"
    done
    for d in /tmp/ust-interop."$1".*; do
        [ -e "$d" ] || continue
        rm -rf "$d"; out="$out tmp:$d"
    done
    echo "$out"
}
