#!/usr/bin/env python3
"""Where the CPU went, by process and symbol: a system-wide sampling profile
that `PROFILE_PERF=1 make profile` records during a window of its load.

    perf script -i perf.data -F pid,ip,sym,dso | perf_report.py PIDS_DIR [--top N] > perf.md

PIDS_DIR is the stack's RUN_DIR/pids (NAME.pid files): a sample's process is
named after its pid file; a process without one (the load generator, a tool)
after the executable it spent most samples in; pid 0 is the idle task. Prints, in
Markdown, each process's share of all samples with its libraries, then the
top N symbols (10) of each of the busiest processes. Symbols of stripped
libraries show as "[unknown]".
"""
import argparse
import collections
import os
import re
import sys

# "  21209      7fdf92ac2cd3 _int_malloc (/usr/lib/x86_64-linux-gnu/libc.so.6)"
LINE = re.compile(r"^\s*(\d+)\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")


def pid_names(pids_dir):
    """{pid: name} from the stack's NAME.pid files"""
    names = {}
    try:
        entries = os.listdir(pids_dir)
    except OSError:
        return names
    for f in entries:
        if not f.endswith(".pid"):
            continue
        try:
            with open(os.path.join(pids_dir, f)) as fh:
                names[fh.read().strip()] = f[:-4]
        except OSError:
            continue
    return names


def is_executable(dso):
    """a program's own binary, not a library, the kernel or JIT code"""
    return not (dso.startswith("[") or ".so" in dso or dso.startswith("perf-")
                or dso.startswith("memfd:"))


def read_samples(lines):
    """{pid: Counter((dso, sym))}"""
    samples = collections.defaultdict(collections.Counter)
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        pid, sym, dso = m.groups()
        samples[pid][(os.path.basename(dso) or dso, sym)] += 1
    return samples


def name_processes(samples, names):
    """{name: Counter((dso, sym))}, pids merged under their name"""
    by_name = collections.defaultdict(collections.Counter)
    stack = set(names.values())
    for pid, counts in samples.items():
        name = names.get(pid)
        if pid == "0":
            name = "idle (the kernel's idle task)"
        elif not name:
            exes = collections.Counter()
            for (dso, _), n in counts.items():
                if is_executable(dso):
                    exes[dso] += n
            name = exes.most_common(1)[0][0] if exes else "kernel threads and others"
            if name in stack:  # e.g. the mariadb client beside the server
                name += " (other processes)"
        by_name[name].update(counts)
    return by_name


def render(by_name, top):
    total = sum(sum(c.values()) for c in by_name.values())
    out = ["# Where the CPU went (perf record -a, by process and symbol)", ""]
    if total == 0:
        out.append("No samples.")
        return "\n".join(out) + "\n"
    out += [f"{total:,} samples.", "",
            "| process | share of all samples | its libraries (share of the process) |",
            "|---|---|---|"]
    ranked = sorted(by_name.items(), key=lambda kv: -sum(kv[1].values()))
    for name, counts in ranked:
        n = sum(counts.values())
        dsos = collections.Counter()
        for (dso, _), k in counts.items():
            dsos[dso] += k
        libs = ", ".join(f"{d} {100 * k / n:.0f} %" for d, k in dsos.most_common(5))
        out.append(f"| {name} | {100 * n / total:.1f} % | {libs} |")
    for name, counts in ranked[:8]:
        n = sum(counts.values())
        out += ["", f"## {name} ({100 * n / total:.1f} % of all samples)", "",
                "| share of the process | symbol | library |", "|---|---|---|"]
        for (dso, sym), k in counts.most_common(top):
            out.append(f"| {100 * k / n:.1f} % | `{sym}` | {dso} |")
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pids_dir")
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args(argv)
    by_name = name_processes(read_samples(sys.stdin), pid_names(args.pids_dir))
    sys.stdout.write(render(by_name, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
