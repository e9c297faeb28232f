#!/bin/sh
# green-mn-targets.sh — the M:N green model (green-mn) against the targets of issue 18,
# each figure from concbench cells run in interleaved rounds (the order rotated every
# round, so that drifting load weighs on all alike); prints per cell the median and
# min-max of the figure, and the commands. The http target is measured by
# scripts/http-targets.sh (green-mn is one of its tools).
#
#   sh scripts/green-mn-targets.sh [ROUNDS]     (default 5; BIN=out/x/bin for a build
#                                                made with make OUT=out/x/)
#
# Cells: pow and fib (N = 128) under sync, green, green-mn and loop (its executor);
# skynet (1,000,000 leaves) under green and green-mn; 100,000 x 1 s sleeps under green
# and green-mn (wall, max_rss_kb, and the cell's memory per green thread: bytes_per_task,
# the peak RSS growth over the live threads, and its stack and record parts,
# runtimes/green/memory.c); pingpong (1 pair, 200,000 rounds)
# under green and green-mn (ns_per_switch; green-mn also ns_per_switch_cross).
# Timing is machine-dependent: read the ratios within one run, with the load printed.
set -eu
ROUNDS=${1:-5}
case $ROUNDS in '' | *[!0-9]* | 0) echo "green-mn-targets.sh: ROUNDS must be a positive integer" >&2; exit 2 ;; esac
BIN=${BIN:-bin}
[ -x "$BIN/concbench" ] || { echo "build first: make (or BIN=out/x/bin after make OUT=out/x/)" >&2; exit 2; }
C="$BIN/concbench run"

CELLS="pow:sync pow:green pow:green-mn pow:loop fib:sync fib:green fib:green-mn fib:loop spawn:green spawn:green-mn
sleep:green sleep:green-mn pingpong:green pingpong:green-mn"
command_of() { # command_of WORKLOAD:MODEL
  w=${1%%:*} m=${1#*:}
  case $w in
    pow | fib) echo "$C --model $m --workload $w --tasks 128" ;;
    spawn) echo "$C --model $m --workload spawn --tasks 1" ;;
    sleep) echo "$C --model $m --workload sleep --tasks 100000 --param ms=1000" ;;
    pingpong) echo "$C --model $m --workload pingpong --tasks 1 --param rounds=200000" ;;
  esac
}
figures_of() { # the record's keys reported for WORKLOAD:MODEL
  case $1 in
    sleep:*) echo "wall_s max_rss_kb bytes_per_task stack_bytes_per_task record_bytes_per_task" ;;
    spawn:*) echo "wall_s ns_per_spawn bytes_per_task stack_bytes_per_task record_bytes_per_task" ;;
    pingpong:green-mn) echo "ns_per_switch ns_per_switch_cross" ;;
    pingpong:*) echo "ns_per_switch" ;;
    *) echo "wall_s" ;;
  esac
}
field() { # field NAME JSON
  printf '%s\n' "$2" | sed -n -E "s/.*\"$1\":(\"[^\"]*\"|[^,}]*).*/\1/p"
}

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
echo "load before: $(uptime)"
ncells=$(echo $CELLS | wc -w)
round=0
while [ "$round" -lt "$ROUNDS" ]; do
  order=$(echo $CELLS | awk -v r="$round" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }')
  for cell in $order; do
    # shellcheck disable=SC2046 # the command line is split into its words on purpose
    out=$($(command_of "$cell") 2>/dev/null) || true
    if [ "$(field verified "$out")" != true ]; then
      echo "$cell failed: $(field error "$out")" >&2
      continue
    fi
    for f in $(figures_of "$cell"); do echo "$cell $f $(field "$f" "$out")" >>"$rows"; done
  done
  round=$((round + 1))
done
echo "load after:  $(uptime)"
echo "rounds: $ROUNDS over $ncells cells"
sort -k1,1 -k2,2 -k3,3g "$rows" | awk '
  { k = $1 " " $2; if (!(k in n)) order[++nk] = k; n[k]++; v[k, n[k]] = $3 }
  END {
    for (i = 1; i <= nk; i++) {
      k = order[i]; m = n[k]
      med = m % 2 ? v[k, (m + 1) / 2] : (v[k, m / 2] + v[k, m / 2 + 1]) / 2
      printf "%-22s %-20s median %12.4f   %.4f-%.4f (%d runs)\n", substr(k, 1, index(k, " ") - 1),
        substr(k, index(k, " ") + 1), med, v[k, 1], v[k, m], m
    }
  }'
echo "commands:"
for cell in $CELLS; do printf '  %-18s %s\n' "$cell" "$(command_of "$cell")"; done
