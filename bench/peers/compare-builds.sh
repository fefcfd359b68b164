#!/usr/bin/env bash
# Two builds of the lab side by side on `httplab bench --loss 2` (issue #18:
# "CPU <= 0.6x today's"): the same command, each build as a whole process.
#
# 1. Instructions: each build once under callgrind (valgrind), which counts
#    every instruction the process runs and gives the same count every time,
#    whatever else the machine is doing. valgrind hides the CPU's SHA
#    instructions, so SHA-256 takes its software path there and counts for
#    more than it costs natively.
# 2. CPU time: PAIRS alternating pairs (old, then new), user + system from
#    bash's `time`; the script prints each pair, the medians and the median
#    of the paired ratios. On a shared machine identical processes differ
#    by 10 % or more: read the ratio with that in mind, and the instruction
#    count beside it.
#
# Runs use `--jobs 1` (two jobs on two shared cores add noise) and a fresh
# output directory each (a results directory resumes, and its key includes
# the build). A run that fails stops the comparison.
#
# Usage: bench/peers/compare-builds.sh OLD_HTTPLAB NEW_HTTPLAB [PAIRS]
#        (PAIRS default 10; SKIP_CALLGRIND=1 leaves step 1 out)
# To build an older commit beside this checkout:
#   git worktree add /tmp/old COMMIT &&
#   (cd /tmp/old && CARGO_TARGET_DIR=/tmp/old-target cargo build --release -p bench)
#   then OLD_HTTPLAB is /tmp/old-target/release/httplab.
set -euo pipefail
usage='usage: bench/peers/compare-builds.sh OLD_HTTPLAB NEW_HTTPLAB [PAIRS]'
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "$usage" >&2; exit 2; }
exec 3>&2 # the script's own stderr, for errors from inside timed runs
old=$1
new=$2
pairs=${3:-10}
for b in "$old" "$new"; do
  [ -x "$b" ] || { echo "compare-builds.sh: $b is not an executable httplab" >&2; exit 2; }
done
case $pairs in '' | *[!0-9]* | 0) echo "compare-builds.sh: PAIRS must be a positive whole number, not '$pairs'" >&2; exit 2 ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { # label command... -> runs `command... bench --loss 2` into the
  # label's directory (which the caller has removed), its output to a log
  local label=$1
  shift
  if ! "$@" bench --loss 2 --jobs 1 --out "$work/$label" > "$work/$label.log" 2>&1; then
    echo "compare-builds.sh: $* bench --loss 2 failed:" >&3
    tail -5 "$work/$label.log" >&3
    exit 3
  fi
}
echo "old: $old ($("$old" --version))"
echo "new: $new ($("$new" --version))"
if [ -z "${SKIP_CALLGRIND:-}" ]; then
  command -v valgrind > /dev/null || { echo "compare-builds.sh: no valgrind (apt-get install valgrind, or SKIP_CALLGRIND=1)" >&2; exit 2; }
  declare -A ir
  for side in old new; do
    bin=$old; [ $side = new ] && bin=$new
    rm -rf "$work/cg-$side"
    run "cg-$side" valgrind --tool=callgrind --callgrind-out-file="$work/cg-$side.out" "$bin"
    ir[$side]=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$work/cg-$side.log")
    [ -n "${ir[$side]}" ] || { echo "compare-builds.sh: no instruction count in callgrind's output for $bin" >&2; exit 3; }
  done
  awk -v o="${ir[old]}" -v n="${ir[new]}" 'BEGIN {
    printf "instructions: old %.3f G, new %.3f G, new/old %.3f\n", o / 1e9, n / 1e9, n / o }'
fi
TIMEFORMAT='%U %S'
printf '%-5s %10s %10s %7s\n' pair old_cpu_s new_cpu_s ratio
: > "$work/pairs"
for i in $(seq 1 "$pairs"); do
  # Each directory is removed before the timed run, not inside it.
  rm -rf "$work/old"
  o=$( { time run old "$old"; } 2>&1 | awk '{printf "%.2f", $1 + $2}')
  rm -rf "$work/new"
  n=$( { time run new "$new"; } 2>&1 | awk '{printf "%.2f", $1 + $2}')
  echo "$o $n" >> "$work/pairs"
  awk -v i="$i" -v o="$o" -v n="$n" 'BEGIN { printf "%-5s %10.2f %10.2f %7.3f\n", i, o, n, n / o }'
done
sort_median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mo=$(awk '{print $1}' "$work/pairs" | sort_median)
mn=$(awk '{print $2}' "$work/pairs" | sort_median)
mr=$(awk '{printf "%.4f\n", $2 / $1}' "$work/pairs" | sort_median)
printf 'CPU medians: old %.3f s, new %.3f s; median paired ratio new/old %.3f (%s pairs)\n' "$mo" "$mn" "$mr" "$pairs"
