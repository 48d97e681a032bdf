#!/usr/bin/env python3
"""The layer check: dependencies point down the textbook picture, never up or sideways.

Two views of every file under src/, and both must agree with the layer order:
  - symbols: each object's undefined symbols (nm) are resolved to the object that defines them,
    so a call or a data reference to another layer counts even when the header that declared it
    came in through a third header;
  - includes: each file's #include "..." lines, which catch what the linker never sees (a layer's
    struct read through its header, a static inline helper).
Only the composition root (src/stack/) and the runtime (src/runtime/) may reach every layer.
Nothing under src/ may reach apps/ or tools/. And the stack keeps no file-scope mutable state:
every `static` object outside a function in src/ (but the runtime, the drivers and the preload
library, which do I/O or are a process's own socket layer)
must be const.

Usage: check-layers.py OBJDIR   (OBJDIR holds the objects of src/ and apps/ at their paths, as the
Makefile's release build does). Prints each violation and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

# Each layer, the folders (or files) it is made of, and the layers it may use. A layer may always
# use itself. Order: bottom to top.
LAYERS = [
    ("core", ["src/core"], []),
    ("wire", ["src/wire"], ["core"]),
    ("drivers", ["src/drivers"], ["core"]),
    ("link", ["src/link"], ["core", "wire"]),
    ("ip", ["src/ip"], ["core", "wire", "link"]),
    ("udp", ["src/udp"], ["core", "wire", "link", "ip"]),
    ("ping", ["src/ping"], ["core", "wire", "link", "ip", "udp"]),
    ("tcp", ["src/tcp"], ["core", "wire", "link", "ip"]),
    ("socket", ["src/socket"], ["core", "wire", "link", "ip", "udp", "ping", "tcp"]),
    # The composition root knows every layer of the stack (and nothing above it).
    ("stack", ["src/stack"], ["core", "wire", "drivers", "link", "ip", "udp", "ping", "tcp",
                              "socket"]),
    # The runtime is the operating system around the stack: it may use all of it, not the apps.
    ("runtime", ["src/runtime"], ["core", "wire", "drivers", "link", "ip", "udp", "ping", "tcp",
                                  "socket", "stack", "include"]),
    ("include", ["include"], ["core"]),
    # The preload library speaks the control protocol and links no part of the stack.
    ("preload", ["src/preload"], ["runtime"]),
    ("apps", ["apps"], None),   # None: not checked (apps use the public API and wire/ helpers)
    ("tools", ["tools"], None),
]
ALLOWED = {name: (set(deps) | {name, "include"}) if deps is not None else None
           for name, _, deps in LAYERS}


def layer_of(path):
    """The layer a source path belongs to: the longest matching prefix; 'loose' if none."""
    best, best_len = None, -1
    for name, prefixes, _ in LAYERS:
        for p in prefixes:
            if (path == p or path.startswith(p + "/")) and len(p) > best_len:
                best, best_len = name, len(p)
    return best or "loose"


def sources(root):
    out = []
    for top in ("src", "apps", "include"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(dirpath, f), root))
    return sorted(out)


def resolve_include(root, src, inc):
    """Where a quoted include lands, as the compiler's search order finds it (-Iinclude -Isrc
    -Iapps after the including file's own folder)."""
    for base in (os.path.dirname(src), "include", "src", "apps"):
        cand = os.path.normpath(os.path.join(base, inc))
        if os.path.exists(os.path.join(root, cand)):
            return cand
    return None


def nm(obj, defined):
    args = ["nm", "-P", "--defined-only" if defined else "--undefined-only", obj]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            name, kind = parts[0], parts[1]
            if defined and kind in "tbdrsv":  # local symbols are no dependency
                continue
            syms.append(name)
    return syms


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    objdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/rel")
    violations = []
    loose = set()

    def check(src, target_layer, what):
        src_layer = layer_of(src)
        if src_layer == "loose" and src.startswith("src/"):
            loose.add(src)
            return
        allowed = ALLOWED.get(src_layer)
        if allowed is None or target_layer in allowed:
            return
        violations.append(f"{src} ({src_layer}) uses {target_layer}: {what}")

    srcs = sources(root)
    for src in srcs:
        with open(os.path.join(root, src), encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                target = resolve_include(root, src, m.group(1))
                if target is None:
                    violations.append(f"{src}:{n}: includes {m.group(1)}, not found in the tree")
                    continue
                if target.startswith(("apps/", "tools/")) and src.startswith("src/"):
                    violations.append(f"{src}:{n}: includes {target} (src/ never reaches apps/)")
                    continue
                check(src, layer_of(target), f"#include \"{m.group(1)}\" (line {n})")

    # No global mutable state in the stack (doc/design.md): file-scope statics must be const.
    for src in srcs:
        if not src.startswith("src/") or layer_of(src) in ("runtime", "drivers", "preload"):
            continue
        with open(os.path.join(root, src), encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if re.match(r"static\s[^()]*[;=]", line) and not re.match(r"static\s+const\s", line):
                    violations.append(f"{src}:{n}: file-scope mutable state: {line.strip()}")

    # Symbols: who defines what, then every object's references.
    objs = {}
    for src in srcs:
        if src.endswith(".c") and layer_of(src) != "preload":  # built alone, as a .so
            obj = os.path.join(objdir, src[:-2] + ".o")
            if not os.path.exists(obj):
                violations.append(f"{src}: no object at {obj} (build it first)")
                continue
            objs[src] = obj
    definer = {}
    for src, obj in objs.items():
        for s in nm(obj, defined=True):
            definer.setdefault(s, src)
    for src, obj in objs.items():
        for s in sorted(set(nm(obj, defined=False))):
            d = definer.get(s)
            if d is None or d == src:
                continue  # the C library, or itself
            if d.startswith("apps/") and src.startswith("src/"):
                violations.append(f"{src} calls {s} from {d} (src/ never reaches apps/)")
                continue
            check(src, layer_of(d), f"{s} (defined in {d})")

    violations += [f"{f}: loose at the top of src/ (every file belongs to a layer)"
                   for f in sorted(loose)]
    for v in violations:
        print(f"layers: {v}")
    if violations:
        print(f"layers: {len(violations)} violation(s)")
        return 1
    print(f"layers: ok ({len(objs)} objects, {len(srcs)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
