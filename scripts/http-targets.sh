#!/bin/sh
# http-targets.sh — the http targets of the issue in one interleaved run:
# 1000 jobs × 4 sequential GETs × 100 ms (16 KiB bodies), all in flight, under
# the loop, green, green-mn and threads models, next to bin/httpfloor, the least client
# work for the same fetches (the floor no model can beat on this machine), and
# bin/easystart, the unchanged easy-interface job's own work before its first
# wait, with no runtime (the least start-up any M:1 runtime running it can have).
#
#   sh scripts/http-targets.sh [ROUNDS]      (default 5; needs `make`; BIN=out/x/bin for
#                                             a build made with make OUT=out/x/)
#
# Each round runs the five commands once, in an order rotated by one every round,
# so that noise drifting during the run weighs on all of them alike. A run counts
# only if it verified (wall_s is null otherwise). Prints per tool the median and
# min–max wall time, its ratio to the ideal 0.4 s and to the floor's median, the
# issue's target where there is one; then each tool's start-up phase (until the
# last job began: a model's last_start_s, the floor's connect phase, easystart's
# first runs); the load before and after, and the commands.
set -eu
ROUNDS=${1:-5}
case $ROUNDS in '' | *[!0-9]* | 0) echo "http-targets.sh: ROUNDS must be a positive integer" >&2; exit 2 ;; esac
BIN=${BIN:-bin}
[ -x "$BIN/httpfloor" ] && [ -x "$BIN/easystart" ] && [ -x "$BIN/concbench" ] && [ -x "$BIN/delayd" ] || { echo "build first: make" >&2; exit 2; }

IDEAL=0.4
TOOLS="floor easystart loop green green-mn threads"
command_of() { # command_of TOOL
  case $1 in
    floor) echo "$BIN/httpfloor --tasks 1000 --requests 4 --delay-ms 100 --bytes 16384" ;;
    easystart) echo "$BIN/easystart --tasks 1000" ;;
    *) echo "$BIN/concbench run --model $1 --workload http --tasks 1000 --concurrency 1000" ;;
  esac
}
target_of() { # the issue's target for TOOL, or -
  case $1 in loop) echo 0.50 ;; green) echo 0.52 ;; *) echo - ;; esac
}
field() { # field NAME JSON: the value, one line
  printf '%s\n' "$2" | sed -n -E "s/.*\"$1\":(\"[^\"]*\"|[^,}]*).*/\1/p"
}

walls=$(mktemp)
errors=$(mktemp)
starts=$(mktemp)
trap 'rm -f "$walls" "$errors" "$starts"' EXIT
echo "load before: $(uptime)"
round=0
while [ "$round" -lt "$ROUNDS" ]; do
  order=$(echo "$TOOLS" | awk -v r="$round" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r) % NF + 1) }')
  for tool in $order; do
    cmd=$(command_of "$tool")
    # shellcheck disable=SC2086 # the command line is split into its words on purpose
    out=$($cmd 2>/dev/null) || true
    case $tool in
      floor) wall=$(field wall_s "$out") start=$(field connect_phase_s "$out") ;;
      easystart) wall=- start=$(field first_runs_s "$out") ;;
      *) wall=$(field wall_s "$out") start=$(field last_start_s "$out") ;;
    esac
    if [ -n "$wall" ] && [ "$wall" != null ] && [ -n "$start" ] && [ "$start" != null ]; then
      [ "$wall" = - ] || echo "$tool $wall" >>"$walls"
      echo "$tool $start" >>"$starts"
    else
      echo "$tool failed" >>"$walls"
      echo "$tool round $((round + 1)): $(field error "$out")" >>"$errors"
    fi
  done
  round=$((round + 1))
done
echo "load after:  $(uptime)"
echo "rounds: $ROUNDS, order rotated each round ($TOOLS); ideal = 4 x 100 ms = ${IDEAL} s"

# Per tool: verified runs sorted by wall time, then median, min, max and ratios.
sort -k1,1 -k2,2n "$walls" | awk -v ideal="$IDEAL" -v tools="$TOOLS" \
  -v targets="$(for t in $TOOLS; do printf '%s ' "$(target_of "$t")"; done)" '
  { runs[$1]++; if ($2 != "failed") { n[$1]++; w[$1, n[$1]] = $2 } }
  function median(t,   m) { m = n[t]; return m % 2 ? w[t, (m + 1) / 2] : (w[t, m / 2] + w[t, m / 2 + 1]) / 2 }
  END {
    nt = split(tools, name, " "); split(targets, target, " ")
    floor_med = n["floor"] ? median("floor") : 0
    printf "%-8s %5s %9s %15s %8s %8s %9s\n", "tool", "ok", "median_s", "min-max_s", "/ideal", "/floor", "target_s"
    for (i = 1; i <= nt; i++) {
      t = name[i]
      if (t == "easystart") continue
      if (!n[t]) { printf "%-8s %2d/%-2d %9s\n", t, 0, runs[t], "-"; continue }
      med = median(t)
      verdict = target[i] == "-" ? "-" : target[i] (med <= target[i] + 0 ? " met" : " missed")
      printf "%-8s %2d/%-2d %9.3f %7.3f-%-7.3f %8.2f %8s %9s\n", t, n[t], runs[t], med, w[t, 1], w[t, n[t]],
        med / ideal, floor_med ? sprintf("%.2f", med / floor_med) : "-", verdict
    }
  }'
# Start-up phase per tool, and what green would take with easystart's start-up.
sort -k1,1 -k2,2n "$starts" | awk -v tools="$TOOLS" '
  { n[$1]++; v[$1, n[$1]] = $2 }
  function median(t,   m) { m = n[t]; return m % 2 ? v[t, (m + 1) / 2] : (v[t, m / 2] + v[t, m / 2 + 1]) / 2 }
  END {
    print "start-up phase (the last job began / its first request went out):"
    nt = split(tools, name, " ")
    for (i = 1; i <= nt; i++) if (n[name[i]])
      printf "  %-9s median %.3f s, %.3f-%.3f\n", name[i], median(name[i]), v[name[i], 1], v[name[i], n[name[i]]]
    if (n["green"] && n["easystart"])
      printf "  green spends %.3f s more than easystart getting its jobs going (medians)\n",
        median("green") - median("easystart")
  }'
if [ -s "$errors" ]; then echo "failed runs:"; sed 's/^/  /' "$errors"; fi
echo "commands:"
for tool in $TOOLS; do printf '  %-9s %s\n' "$tool" "$(command_of "$tool")"; done
