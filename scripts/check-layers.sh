#!/usr/bin/env bash
# Checks that dependencies point downwards (doc/design.md, Layers), from #includes and symbols.
# Prints each violation; exits 1 if there is any.
set -u
cd "$(dirname "$0")/.."
bad=0
violation() { echo "layers: $*"; bad=1; }

incs() { grep -hoE '^#include "[^"]+"' "$1" | sed -E 's/#include "(.*)"/\1/'; }

# wire/ knows only core types and itself.
for f in src/wire/*.[ch]; do
    for i in $(incs "$f"); do
        case $i in core/*|wire/*) ;; *) violation "$f includes $i (wire/ may include core/ only)";; esac
    done
done
# core/ knows only core/, except stack.c, which owns every layer's state.
for f in src/core/*.[ch]; do
    [ "$f" = src/core/stack.c ] && continue
    for i in $(incs "$f"); do
        case $i in core/*|wire/*) ;; *) violation "$f includes $i (core/ is the bottom layer)";; esac
    done
done
# drivers/ do I/O and know nothing of the protocols.
for f in src/drivers/*.[ch]; do
    for i in $(incs "$f"); do
        case $i in core/*|drivers/*) ;; *) violation "$f includes $i (drivers know no protocol)";; esac
    done
done
# The link layer hands frames up through the dispatch table, never by name.
if grep -nE 'us_(ip4|arp|icmp|udp|tcp)_[a-z_]*input' src/link/*.c; then
    violation "src/link calls an upper layer's input directly"
fi
# IP and ARP never name the transports or the socket layer.
for f in src/ip/*.c src/arp.c src/link/*.c; do
    for i in $(incs "$f"); do
        case $i in udp.h|tcp/*|socket/*) violation "$f includes $i (reaches up a layer)";; esac
    done
done
# Nothing in the core keeps file-scope mutable state.
if grep -nE '^static [^()]*[;=]' src/core/*.c src/wire/*.c src/link/*.c src/ip/*.c src/*.c src/socket/*.c \
    | grep -v 'static const'; then
    violation "file-scope mutable static in the core"
fi
[ $bad -eq 0 ] && echo "layers: ok"
exit $bad
