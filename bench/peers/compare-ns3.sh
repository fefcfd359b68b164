#!/usr/bin/env bash
# The lab against ns-3 on the same bulk transfer (issue #18 item 6): 10 MB
# over 10 Mbit/s, 50 ms RTT, a 42-packet drop-tail queue, TCP CUBIC with
# SACK, at 0 % and 2 % random loss (both directions). Each tool runs as a
# whole process, in pairs (lab, then ns-3, same seed), timed with bash's
# `time` (user + system CPU); the script prints each pair, then per loss
# rate the median CPU of each tool, their ratio and each tool's goodput.
#
# The lab's run is `httplab run --scenario bulk --protocol h2`: it also
# runs TLS 1.3 and HTTP/2, and its goodput counts from the request's start
# (TCP and TLS handshakes included); ns-3's counts from the SYN. ns-3.37's
# TCP has no RACK or TLP, so at 2 % loss its recoveries take longer and its
# goodput is lower: the comparison is of speed, and a cross-check of
# behaviour only where both model the same thing.
#
# Usage: bench/peers/compare-ns3.sh [SEEDS]   (default 5; needs
# bench/peers/build-ns3.sh and a release httplab: cargo build --release -p bench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seeds=${1:-5}
lab=${HTTPLAB:-$root/target/release/httplab}
ns3=${NS3_BULK:-$root/target/peers/ns3-bulk}
[ -x "$lab" ] || { echo "compare-ns3.sh: no $lab (cargo build --release -p bench)" >&2; exit 1; }
[ -x "$ns3" ] || "$here/build-ns3.sh" "$ns3" > /dev/null
size=10000000
TIMEFORMAT='%U %S'
cpu_of() { # command... ; prints "cpu_seconds" then the command's output;
  # a command that fails (httplab exits 3 on a failed run, ns3-bulk on an
  # unfinished transfer) stops the comparison: a failure is not a time
  local t out status=0
  out=$( { time "$@" 2>&1; } 2> /tmp/compare-ns3.time ) || status=$?
  if [ "$status" -ne 0 ]; then
    echo "compare-ns3.sh: $* exited with $status: $out" >&2
    exit 3
  fi
  t=$(awk '{printf "%.3f", $1 + $2}' /tmp/compare-ns3.time)
  printf '%s\n%s\n' "$t" "$out"
}
printf '%-5s %-5s %10s %10s %7s %14s %14s\n' loss seed lab_cpu_s ns3_cpu_s ratio lab_mbit_s ns3_mbit_s
results=()
for loss in 0 2; do
  for seed in $(seq 1 "$seeds"); do
    lab_out=$(cpu_of "$lab" run --scenario bulk --protocol h2 --seed "$seed" --loss "$loss")
    lab_cpu=$(head -1 <<< "$lab_out")
    plt=$(awk '/^page load time:/ {print $4}' <<< "$lab_out")
    [ -n "$plt" ] || { echo "compare-ns3.sh: the lab's run failed: $lab_out" >&2; exit 3; }
    lab_mbit=$(awk -v s="$size" -v t="$plt" 'BEGIN {printf "%.3f", s * 8 / t / 1e6}')
    ns3_out=$(cpu_of "$ns3" --loss="$loss" --seed="$seed" --size="$size")
    ns3_cpu=$(head -1 <<< "$ns3_out")
    ns3_mbit=$(awk '/goodput/ {print $(NF-1)}' <<< "$ns3_out")
    [ -n "$ns3_mbit" ] || { echo "compare-ns3.sh: ns-3's run failed: $ns3_out" >&2; exit 3; }
    ratio=$(awk -v a="$ns3_cpu" -v b="$lab_cpu" 'BEGIN {printf "%.2f", a / b}')
    printf '%-5s %-5s %10s %10s %7s %14s %14s\n' "$loss" "$seed" "$lab_cpu" "$ns3_cpu" "$ratio" "$lab_mbit" "$ns3_mbit"
    results+=("$loss $lab_cpu $ns3_cpu $lab_mbit $ns3_mbit")
  done
done
echo
echo "medians (ratio = ns-3 CPU / lab CPU: above 1, the lab is faster)"
for loss in 0 2; do
  printf '%s\n' "${results[@]}" | awk -v l="$loss" '
    function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    $1 == l { n++; lc[n] = $2; nc[n] = $3; lg[n] = $4; ng[n] = $5 }
    END { a = median(lc, n); b = median(nc, n)
          printf "loss %s %%: lab %.3f s CPU, ns-3 %.3f s CPU, ratio %.2f; goodput lab %.3f Mbit/s, ns-3 %.3f Mbit/s\n", l, a, b, b / a, median(lg, n), median(ng, n) }'
done
