#!/usr/bin/env python3
"""Report the structure of the built code: file-level dependency cycles of
each component, from the symbols of its objects, and the longest sources.

    tests/structure.py [BUILD]        (default: build; run `make` first)

A file depends on another when its object uses (nm: U) a symbol the other
defines (T, D, B, R). Files are grouped by component (backend, kinds, vdcfs,
agents/common, agents/hva, agents/sta, bench): a cycle is a strongly
connected set of two or more files of one component, edges between
components included (the control plane's components are backend, kinds and
vdcfs together, since vdcfs links libvdc.a). It is a report: it prints and exits
0; CI shows it (scripts/test), so a new cycle is seen, not hidden.
"""
import os
import subprocess
import sys

COMPONENTS = [
    ("control plane", ("backend/", "kinds/", "vdcfs/")),
    ("agents/common", ("agents/common/",)),
    ("vdc-hva", ("agents/hva/", "agents/common/")),
    ("vdc-sta", ("agents/sta/", "agents/common/")),
]
LONG = 800   # lines: a source file longer than this is listed


def objects(build):
    root = os.path.join(build, "obj")
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".o"):
                path = os.path.join(d, f)
                yield os.path.relpath(path, root)[:-2] + ".c", path


def symbols(path):
    out = subprocess.run(["nm", "--defined-only", "-g", path], capture_output=True, text=True).stdout
    defined = {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}
    out = subprocess.run(["nm", "-u", path], capture_output=True, text=True).stdout
    used = {line.split()[-1] for line in out.splitlines() if line.split()}
    return defined, used


def sccs(nodes, edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    syms = {src: symbols(obj) for src, obj in objects(build)}
    if not syms:
        print(f"structure: no objects under {build}/obj; run make first")
        return 0
    total = 0
    for name, prefixes in COMPONENTS:
        files = sorted(f for f in syms if f.startswith(prefixes))
        owner = {}
        for f in files:
            for s in syms[f][0]:
                owner.setdefault(s, f)
        edges = {f: {owner[s] for s in syms[f][1] if s in owner and owner[s] != f} for f in files}
        cycles = sccs(files, edges)
        total += len(cycles)
        print(f"{name}: {len(files)} files, {len(cycles)} cycle(s)")
        for c in cycles:
            print("  cycle: " + " ".join(x[:-2] for x in c))
    longest = []
    for d in ("backend", "kinds", "vdcfs", "agents", "tests", "bench"):
        for dirpath, _, fs in os.walk(d):
            for f in fs:
                if f.endswith((".c", ".h")):
                    p = os.path.join(dirpath, f)
                    with open(p, encoding="utf-8", errors="replace") as fh:
                        longest.append((sum(1 for _ in fh), p))
    longest.sort(reverse=True)
    print(f"source files over {LONG} lines:")
    for n, p in longest:
        if n <= LONG:
            break
        print(f"  {n:5d} {p}")
    print(f"structure: cycles={total} longest={longest[0][0] if longest else 0}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
