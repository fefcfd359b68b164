#!/usr/bin/env python3
"""CPU time of one httplab command under two builds, side by side.

    bench/scripts/cpu_ratio.py BASELINE_BIN NEW_BIN [ROUNDS] [-- ARGS...]

Runs `BIN ARGS --out TMP --jobs 1` (default ARGS: `bench --loss 2`) with the
two binaries alternately, ROUNDS times each (default 7), each into a fresh
results directory, and prints every run's CPU time (user + system, from
getrusage of the finished child) and the ratio of the medians, NEW / BASELINE.
The builds run in one session on one machine, interleaved, so that load from
other work falls on both alike; the ratio, not the seconds, is the figure.
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile


def cpu_of(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    base, new = argv[1], argv[2]
    rest = argv[3:]
    rounds = 7
    if rest and rest[0] != "--":
        rounds = int(rest.pop(0))
    args = rest[1:] if rest[:1] == ["--"] else ["bench", "--loss", "2"]
    times = {base: [], new: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds):
            for binary in (base, new) if i % 2 == 0 else (new, base):
                out = os.path.join(tmp, f"r{i}-{len(times[binary])}-{os.path.basename(binary)}")
                t = cpu_of([binary, *args, "--out", out, "--jobs", "1"])
                times[binary].append(t)
                print(f"{'baseline' if binary == base else 'new':8} round {i + 1}: {t:.3f} s CPU", flush=True)
    mb, mn = statistics.median(times[base]), statistics.median(times[new])
    print(f"median CPU: baseline {mb:.3f} s, new {mn:.3f} s; new / baseline = {mn / mb:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
