#!/bin/sh
# server-targets.sh — the server targets of issue 16 in one interleaved run, every
# figure from `concbench run` cells (server pinned to CPU 0, bin/loadgen to CPU 1 on
# this 2-core machine):
#   1. serve, closed loop, 100 connections, 1 KiB replies, no work: req/s of loop,
#      green, threads, procs and nginx, each as a share of nginx's in the same rounds;
#   2. echo, 100 connections, 1 KiB: loop and green against the libuv-callbacks echo
#      server (bin/echobench --serve-uv) loaded by the same generator (run --target);
#   3. open loop at 50% of each model's own closed-loop median: p99 (corrected and
#      uncorrected) for loop, green, threads, procs and nginx;
#   4. 10,000 connections held and served by loop and green.
#
#   sh scripts/server-targets.sh [ROUNDS] [SECONDS]   (default 3 rounds of 3 s windows; needs `make`)
#
# Each round runs every closed-loop command once, the order rotated by one each
# round, so that noise drifting during the run weighs on all alike. A run counts
# only if it verified (req_per_s is null otherwise).
set -eu
ROUNDS=${1:-3}
SECONDS_=${2:-3}
case $ROUNDS in '' | *[!0-9]* | 0) echo "server-targets.sh: ROUNDS must be a positive integer" >&2; exit 2 ;; esac
case $SECONDS_ in '' | *[!0-9]* | 0) echo "server-targets.sh: SECONDS must be a positive integer" >&2; exit 2 ;; esac
BIN=bin
for p in concbench loadgen echobench delayd; do
  [ -x "$BIN/$p" ] || { echo "build first: make" >&2; exit 2; }
done
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "nginx missing: make deps" >&2; exit 2; }
WINDOW=$((SECONDS_ * 1000))
COMMON="--param duration_ms=$WINDOW --param warmup_ms=500"

field() { # field NAME JSON: a top-level scalar
  printf '%s\n' "$2" | sed -n -E "s/.*\"$1\":(\"[^\"]*\"|[^,}]*).*/\1/p" | head -1
}
p99() { # p99 OBJECT JSON: the p99 inside "OBJECT":{...}
  printf '%s\n' "$2" | sed -n -E "s/.*\"$1\":\{[^}]*\"p99\":([^,}]*).*/\1/p" | head -1
}

out=$(mktemp)
trap 'rm -f "$out"; [ -n "${UVPID:-}" ] && kill "$UVPID" 2>/dev/null; true' EXIT
echo "load before: $(uptime)"

# The libuv-callbacks echo floor, for the whole run.
UVOUT=$(mktemp)
taskset -c 0 "$BIN/echobench" --serve-uv 3600 >"$UVOUT" &
UVPID=$!
i=0
while [ ! -s "$UVOUT" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
UVPORT=$(field port "$(cat "$UVOUT")")
rm -f "$UVOUT"

run_one() { # run_one NAME: one closed-loop cell, one line "NAME rps p99 gen_cpu" into $out
  case $1 in
    serve-*) m=${1#serve-}; r=$($BIN/concbench run --model "$m" --workload serve --tasks 100 $COMMON 2>/dev/null || true) ;;
    echo-uv) r=$(taskset -c 1 $BIN/concbench run --model loop --workload echo --tasks 100 --target "127.0.0.1:$UVPORT" $COMMON 2>/dev/null || true) ;;
    echo-*) m=${1#echo-}; r=$($BIN/concbench run --model "$m" --workload echo --tasks 100 $COMMON 2>/dev/null || true) ;;
  esac
  rps=$(field req_per_s "$r")
  if [ -n "$rps" ] && [ "$rps" != null ]; then
    echo "$1 $rps $(p99 latency_ms "$r") $(field generator_cpu "$r")" >>"$out"
  else
    echo "$1 failed: $(field error "$r")" >&2
  fi
}

NAMES="serve-nginx serve-loop serve-green serve-threads serve-procs echo-uv echo-loop echo-green"
round=0
while [ "$round" -lt "$ROUNDS" ]; do
  order=$(echo "$NAMES" | awk -v r="$round" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }')
  for n in $order; do run_one "$n"; done
  round=$((round + 1))
done

echo "closed loop, 100 connections, 1 KiB, $ROUNDS rounds of ${SECONDS_} s windows (server CPU 0, generator CPU 1):"
sort -k1,1 -k2,2n "$out" | awk '
  { n[$1]++; r[$1, n[$1]] = $2; p[$1, n[$1]] = $3; g[$1, n[$1]] = $4 }
  function med(a, t,   m) { m = n[t]; return m % 2 ? a[t, (m + 1) / 2] : (a[t, m / 2] + a[t, m / 2 + 1]) / 2 }
  END {
    printf "%-14s %4s %12s %12s %9s %8s %8s\n", "cell", "ok", "median_rps", "min-max", "p99_ms", "gen_cpu", "share"
    for (t in n) if (t ~ /^serve-nginx$/) ngx = med(r, t); else if (t == "echo-uv") uv = med(r, t)
    split("serve-nginx serve-loop serve-green serve-threads serve-procs echo-uv echo-loop echo-green", order, " ")
    for (i = 1; i <= 8; i++) {
      t = order[i]; if (!n[t]) { printf "%-14s    0 (every run failed)\n", t; continue }
      base = t ~ /^serve/ ? ngx : uv
      printf "%-14s %4d %12.0f %5.0f-%-6.0f %9.3f %8.2f %7.1f%%\n", t, n[t], med(r, t), r[t, 1], r[t, n[t]], med(p, t), med(g, t), base ? 100 * med(r, t) / base : 0
    }
    print "share: of nginx (serve rows) or of the libuv-callbacks echo server (echo rows), medians"
  }' | tee "$out.summary"

echo "open loop at 50% of each model's own closed-loop median, 100 connections:"
for m in loop green threads procs nginx; do
  med=$(awk -v t="serve-$m" '$1 == t { print $2 }' "$out" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
  [ -n "$med" ] || { echo "  $m: no closed-loop figure"; continue; }
  rate=$(awk -v m="$med" 'BEGIN { printf "%d", m / 2 }')
  r=$($BIN/concbench run --model "$m" --workload serve --tasks 100 --param "rate=$rate" $COMMON 2>/dev/null || true)
  echo "  $m: offered $rate req/s, achieved $(field req_per_s "$r"), p99 $(p99 latency_ms "$r") ms corrected, $(p99 latency_uncorrected_ms "$r") ms uncorrected $( [ "$(field verified "$r")" = true ] || echo "FAILED: $(field error "$r")")"
done

echo "10,000 connections (serve, closed loop):"
for m in loop green; do
  r=$($BIN/concbench run --model "$m" --workload serve --tasks 10000 $COMMON --param timeout_ms=10000 2>/dev/null || true)
  echo "  $m: verified $(field verified "$r"), $(field req_per_s "$r") req/s, p99 $(p99 latency_ms "$r") ms, generator_cpu $(field generator_cpu "$r"), peak open $(printf '%s' "$r" | sed -n -E 's/.*"peak_open":([0-9]+).*/\1/p') $( [ "$(field verified "$r")" = true ] || echo "error: $(field error "$r")")"
done
rm -f "$out.summary"
echo "load after:  $(uptime)"
