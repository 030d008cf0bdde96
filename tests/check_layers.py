#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The dependency rules of docs/architecture.md, checked over the #include lines of the
sources: every quoted include must be allowed by the including file's room, and the graph of
includes between files must have no cycle. A TAP test: one line per rule kind.

With --calls BUILDDIR, the same rules over the calls between the library's object files in
BUILDDIR (nm's undefined symbols of one object against the symbols another defines): no call
from a room to one it may not include, and no cycle of calls between files. cli/ is left out:
it is the library's client, not part of it."""
import os
import re
import subprocess
import sys

top = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(__file__), "..")
top = os.path.abspath(top)


def rules():
    text = open(os.path.join(top, "docs", "architecture.md"), encoding="utf-8").read()
    m = re.search(r"```rules\n(.*?)```", text, re.S)
    if not m:
        sys.exit("docs/architecture.md has no ```rules block")
    table = {}
    for line in m.group(1).splitlines():
        words = line.split()
        if words:
            table[words[0]] = words[1:]
    return table


def allow_of(src, table):
    return table[room_of(src, table)]


def room_of(path, table):
    """The longest room of the table that path lies in (a file of include/ is in include)."""
    best = None
    for room in table:
        if path == room or path.startswith(room + "/"):
            if best is None or len(room) > len(best):
                best = room
    return best


def allowed(target, target_room, allow):
    for a in allow:
        if a == target:
            return True
        if a.endswith("*"):
            if target_room == a[:-1] or target_room.startswith(a[:-1]):
                return True
        elif target_room == a:
            return True
    return False


def sources():
    for d in ("common", "lexer", "parser", "linter", "codegen", "runtime", "api", "cli", "include"):
        for root, _, files in os.walk(os.path.join(top, d)):
            for f in files:
                if f.endswith((".c", ".h", ".y", ".l")):
                    yield os.path.relpath(os.path.join(root, f), top)


def sccs_of(graph):
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


LIBRARY_ROOMS = ("common", "lexer", "parser", "linter", "codegen", "runtime", "api")


def object_of(build, src):
    """The object file the build made of src: src.o beside it (an in-tree or VPATH build), or
    the names automake and libtool give it for per-target flags (libbale_la-x.o, .libs/)."""
    d, base = os.path.split(os.path.splitext(src)[0])
    found = []
    for sub in ("", ".libs"):
        dirpath = os.path.join(build, d, sub)
        if not os.path.isdir(dirpath):
            continue
        for f in os.listdir(dirpath):
            if f == base + ".o" or (f.endswith("-" + base + ".o") and f.startswith("libbale")):
                found.append(os.path.join(dirpath, f))
    return max(found, key=os.path.getmtime) if found else None


def symbols(obj):
    """(defined, undefined) global symbols of an object file."""
    out = subprocess.run(["nm", "-P", obj], check=True, capture_output=True, text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        w = line.split()
        if len(w) < 2:
            continue
        if w[1] == "U":
            undefined.add(w[0])
        elif w[1] in "TDBRCVWG":
            defined.add(w[0])
    return defined, undefined


def calls(build):
    table = rules()
    objects, missing = {}, []
    for src in sorted(sources()):
        if not src.startswith(tuple(r + "/" for r in LIBRARY_ROOMS)) or not src.endswith((".c", ".y", ".l")):
            continue
        if src in ("lexer/lexer.c", "parser/parser.c"):
            continue  # flex's and bison's outputs of lexer.l and parser.y, in an in-tree build
        if src == "runtime/sandbox/seccomp_gen.c":
            continue  # a program make runs to write seccomp_bpf.h, not in the library
        obj = object_of(build, src)
        if obj is None:
            missing.append(src)
        else:
            objects[src] = obj
    owner, needs = {}, {}
    for src, obj in objects.items():
        defined, undefined = symbols(obj)
        needs[src] = undefined
        for sym in defined:
            owner.setdefault(sym, []).append(src)
    graph, bad = {}, []
    for src in sorted(needs):
        for sym in sorted(needs[src]):
            for target in owner.get(sym, ()):
                if target == src:
                    continue
                graph.setdefault(src, {}).setdefault(target, []).append(sym)
    for src in sorted(graph):
        room = room_of(src, table)
        for target, syms in sorted(graph[src].items()):
            troom = room_of(target, table)
            if not allowed(target, troom, allow_of(src, table)):
                bad.append(f"{src} calls {target} ({', '.join(syms[:3])}): {room}/ may not use {troom}/")
    print("1..3")
    for m in missing:
        print(f"# {m}: no object file in {build}")
    print(("ok" if objects and not missing else "not ok")
          + f" 1 - an object file for each of the library's {len(objects) + len(missing)} sources")
    for b in bad:
        print("# " + b)
    print(("ok" if not bad else "not ok") + " 2 - every call between files is allowed by docs/architecture.md")
    cycles = sccs_of(graph)
    for c in cycles:
        print("# call cycle: " + ", ".join(c))
        for a in c:
            for target, syms in sorted(graph[a].items()):
                if target in c:
                    print(f"#   {a} -> {target} ({', '.join(syms[:3])})")
    print(("ok" if not cycles else "not ok") + " 3 - no cycle of calls between files")
    return 1 if bad or cycles or missing or not objects else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--calls":
        return calls(sys.argv[2])
    table = rules()
    include_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    bad = []
    graph = {}
    for src in sorted(sources()):
        if src.startswith(("lexer/lexer.c", "lexer/lexer.h", "parser/parser.c", "parser/parser.h")) \
                and not src.endswith((".l", ".y")):
            continue  # generated by flex and bison in an in-tree build
        room = room_of(src, table)
        if room is None:
            bad.append(f"{src}: in no room of docs/architecture.md")
            continue
        text = open(os.path.join(top, src), encoding="utf-8", errors="replace").read()
        for inc in include_re.findall(text):
            # <bale.h> and the include/bale/*.h it includes, as an installed program names them.
            target = "include/" + inc if inc == "bale.h" or inc.startswith("bale/") else inc
            if inc in ("config.h",) or inc.startswith(("lexer.h", "parser.h")):
                continue
            graph.setdefault(src, set()).add(target)
            troom = room_of(target, table)
            if troom is None:
                bad.append(f"{src}: includes {inc}, which is in no room")
            elif not allowed(target, troom, allow_of(src, table)):
                bad.append(f"{src}: {room}/ may not include {inc} ({troom}/)")
    print("1..2")
    for b in bad:
        print("# " + b)
    print(("ok" if not bad else "not ok") + " 1 - every #include is allowed by docs/architecture.md")

    # Cycles of includes between files.
    sccs = sccs_of(graph)
    for c in sccs:
        print("# include cycle: " + " -> ".join(c))
    print(("ok" if not sccs else "not ok") + " 2 - no cycle of #includes between files")
    return 1 if bad or sccs else 0


sys.exit(main())
