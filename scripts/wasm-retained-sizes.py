#!/usr/bin/env python3
"""Retained sizes of a Wasm module's functions: what removing a function would save.

    scripts/wasm-retained-sizes.py MODULE.wasm [--top N] [--without REGEX | --callers REGEX]

MODULE must keep its function names (scripts/canister-sizes.sh builds one). The call graph
comes from `llvm-objdump -d` (direct calls) with the exports and the indirect-call table as
roots; a function's retained size is its own code plus that of every function reachable only
through it (its subtree in the dominator tree). `--without REGEX` instead cuts every call into
the functions whose demangled name matches and lists what would no longer be reachable: how
much a family of functions (say, the standard library's String) costs with everything only it
pulls in. `--callers REGEX` lists the functions outside such a family that call into it: where
the family is entered, so where a change would cut it. Sizes are of the unstripped code, as in
canister-sizes.sh.
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys


def leb128(data, i):
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def roots_and_import_count(data):
    """Exported and table (call_indirect) functions, how many functions are imported, and the
    file offset where the code section ends."""
    pos, imports, roots, code_end = 8, 0, set(), len(data)
    while pos < len(data):
        section, (size, p) = data[pos], leb128(data, pos + 1)
        end = p + size
        if section == 2:  # imports
            count, p = leb128(data, p)
            for _ in range(count):
                for _ in range(2):  # module and field names
                    length, p = leb128(data, p)
                    p += length
                kind = data[p]
                p += 1
                if kind == 0:
                    _, p = leb128(data, p)
                    imports += 1
                elif kind == 1:  # table: reftype, limits
                    flags, p = leb128(data, p + 1)
                    _, p = leb128(data, p)
                    if flags & 1:
                        _, p = leb128(data, p)
                elif kind == 2:  # memory: limits
                    flags, p = leb128(data, p)
                    _, p = leb128(data, p)
                    if flags & 1:
                        _, p = leb128(data, p)
                else:  # global: valtype, mutability
                    p += 2
        elif section == 7:  # exports
            count, p = leb128(data, p)
            for _ in range(count):
                length, p = leb128(data, p)
                p += length
                kind = data[p]
                index, p = leb128(data, p + 1)
                if kind == 0:
                    roots.add(index)
        elif section == 9:  # elements: wasm-ld writes active segments with an i32.const offset
            count, p = leb128(data, p)
            for _ in range(count):
                flags, p = leb128(data, p)
                if flags != 0:
                    sys.exit(f"element segment kind {flags} is not handled")
                while data[p] != 0x0B:
                    p += 1
                entries, p = leb128(data, p + 1)
                for _ in range(entries):
                    index, p = leb128(data, p)
                    roots.add(index)
        elif section == 10:
            code_end = end
        pos = end
    return roots, imports, code_end


def call_graph(module, imports, code_end):
    objdump = os.path.join(os.path.dirname(shutil.which("swift")), "llvm-objdump")
    listing = subprocess.run([objdump, "-d", module], capture_output=True, text=True, check=True).stdout
    header, call = re.compile(r"^([0-9a-f]+) <(.*)>:$"), re.compile(r"\tcall\t(\d+)")
    names, starts, calls, current = {}, [], collections.defaultdict(set), None
    for line in listing.splitlines():
        match = header.match(line)
        if match and match.group(2) != "CODE":
            current = imports + len(starts)
            names[current] = match.group(2)
            starts.append(int(match.group(1), 16))
        elif current is not None and (match := call.search(line)):
            calls[current].add(int(match.group(1)))
    ends = starts[1:] + [code_end]
    sizes = {imports + i: end - start for i, (start, end) in enumerate(zip(starts, ends))}
    return names, sizes, {f: {c for c in calls[f] if c in names} for f in names}


def demangled(names):
    keys = list(names)
    lines = subprocess.run(
        ["swift-demangle", "--simplified", "--compact"], input="\n".join(names[k] for k in keys), capture_output=True, text=True
    ).stdout.split("\n")
    return dict(zip(keys, lines))


def reachable(roots, successors, blocked=frozenset()):
    seen, stack = set(), [r for r in roots if r not in blocked]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(c for c in successors[node] if c not in blocked and c not in seen)
    return seen


def retained_sizes(roots, successors, sizes):
    """Dominator tree (Cooper, Harvey, Kennedy) from a virtual root; subtree sizes."""
    root = -1
    graph = dict(successors)
    graph[root] = set(roots)
    order, seen, stack = [], {root}, [(root, iter(sorted(graph[root])))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in seen:
                seen.add(child)
                stack.append((child, iter(sorted(graph[child]))))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    rank = {n: i for i, n in enumerate(order)}
    predecessors = collections.defaultdict(list)
    for node in order:
        for child in graph[node]:
            predecessors[child].append(node)
    idom = {root: root}

    def intersect(a, b):
        while a != b:
            while rank[a] > rank[b]:
                a = idom[a]
            while rank[b] > rank[a]:
                b = idom[b]
        return a

    changed = True
    while changed:
        changed = False
        for node in order[1:]:
            done = [p for p in predecessors[node] if p in idom]
            new = done[0]
            for p in done[1:]:
                new = intersect(p, new)
            if idom.get(node) != new:
                idom[node], changed = new, True
    children = collections.defaultdict(list)
    for node, dominator in idom.items():
        if node != root:
            children[dominator].append(node)
    retained = {}
    for node in reversed(order):
        retained[node] = sizes.get(node, 0) + sum(retained[c] for c in children[node])
    return retained


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--without", metavar="REGEX")
    parser.add_argument("--callers", metavar="REGEX")
    arguments = parser.parse_args()
    data = open(arguments.module, "rb").read()
    roots, imports, code_end = roots_and_import_count(data)
    names, sizes, successors = call_graph(arguments.module, imports, code_end)
    roots = {r for r in roots if r in names}
    readable = demangled(names)
    live = reachable(roots, successors)
    print(f"{sum(sizes[f] for f in live)} bytes of code reachable from {len(roots)} exported and table functions")
    if arguments.without:
        pattern = re.compile(arguments.without)
        cut = {f for f in names if pattern.search(readable[f])}
        gone = live - reachable(roots, successors, frozenset(cut))
        print(f"without {len(cut)} functions matching {arguments.without!r}: {sum(sizes[f] for f in gone)} bytes unreachable")
        rows = sorted(((sizes[f], f) for f in gone), reverse=True)[: arguments.top]
        for size, f in rows:
            print(f"{size:8d}  {readable[f][:150]}")
        return
    if arguments.callers:
        pattern = re.compile(arguments.callers)
        family = {f for f in live if pattern.search(readable[f])}
        print(f"functions outside {arguments.callers!r} that call into it:")
        for f in sorted(f for f in live - family if successors[f] & family):
            entered = sorted({readable[c][:70] for c in successors[f] & family})
            print(f"  {readable[f][:100]}\n      -> {'; '.join(entered)[:300]}")
        return
    retained = retained_sizes(roots, successors, sizes)
    print(f"{'retained':>8}  {'own':>6}  function")
    rows = sorted(((retained[f], sizes[f], f) for f in live), reverse=True)[: arguments.top]
    for total, own, f in rows:
        print(f"{total:8d}  {own:6d}  {readable[f][:150]}")


if __name__ == "__main__":
    main()
