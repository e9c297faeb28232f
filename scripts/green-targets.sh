#!/bin/sh
# green-targets.sh — measures the green runtime against the targets of issue 3, each
# as a concbench cell or microbench, and prints one line per figure with the command.
# Needs `make` and `make GREEN_SWITCH=ucontext` first. Timing is machine-dependent:
# compare ratios within one run.
#
#   sh scripts/green-targets.sh [SLEEP_ROUNDS]    (default 7)
#
# The sleep target sits on a floor that moves from run to run here (the cost of a
# fresh page): it is run SLEEP_ROUNDS times, each right after a microbench that
# measures that floor, and reported as medians of the wall, the floor and their
# difference (what the runtime adds). The http target is measured with the other
# models, interleaved, by scripts/http-targets.sh; the single runs here are a check.
set -eu
ROUNDS=${1:-7}
case $ROUNDS in '' | *[!0-9]* | 0) echo "green-targets.sh: SLEEP_ROUNDS must be a positive integer" >&2; exit 2 ;; esac
ASM=bin/concbench
UCTX=build/ucontext/bin/concbench
[ -x "$ASM" ] && [ -x "$UCTX" ] || { echo "build first: make && make GREEN_SWITCH=ucontext" >&2; exit 2; }

field() { # field NAME JSON
  printf '%s' "$2" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"
}
show() { # show LABEL JSON COMMAND FIELDS...
  line="$1:"; json=$2; cmd=$3; shift 3
  for f in "$@"; do line="$line $f=$(field "$f" "$json")"; done
  echo "$line    [$cmd]"
}
cell() { # cell LABEL FIELDS... -- ARGS...
  label=$1; shift
  fields=""
  while [ "$1" != "--" ]; do fields="$fields $1"; shift; done
  shift
  show "$label" "$("$@")" "$*" $fields
}

# The sleep target's floor on this machine: every one of the 100,000 live green
# threads needs one fresh stack page (faulted in, later unmapped) on top of the 1 s.
floor_of() { # floor_of MICROBENCH_JSON: seconds
  awk -v f="$(field ns_per_fresh_page "$1")" -v u="$(field ns_per_page_unmap "$1")" \
    'BEGIN { printf "%.3f", 1 + 100000 * (f + u) / 1e9 }'
}
median() { # median of the numbers on stdin, with their range
  sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.3f (%.3f-%.3f)", m, v[1], v[NR] }'
}
mb=$($ASM microbench)
show "microbench asm" "$mb" "$ASM microbench" ns_per_raw_switch ns_per_yield ns_per_chan_handoff ns_write_hooked \
  ns_write_libc hook_overhead_ratio ns_per_fresh_page ns_per_page_unmap
echo "sleep floor: 1 s + 100000 x (fresh page + unmap) = $(floor_of "$mb") s"
cell "microbench ucontext" ns_per_raw_switch ns_per_yield ns_per_chan_handoff -- $UCTX microbench
cell "pingpong green asm" ns_per_switch verified -- $ASM run --model green --workload pingpong --tasks 1 --param rounds=2000000
cell "pingpong green ucontext" ns_per_switch verified -- $UCTX run --model green --workload pingpong --tasks 1 --param rounds=200000
cell "pingpong threads" ns_per_switch verified -- $ASM run --model threads --workload pingpong --tasks 1 --param rounds=50000
cell "pingpong procs" ns_per_switch verified -- $ASM run --model procs --workload pingpong --tasks 1 --param rounds=50000
SLEEP="$ASM run --model green --workload sleep --tasks 100000 --param ms=1000"
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
r=0
while [ "$r" -lt "$ROUNDS" ]; do
  floor=$(floor_of "$($ASM microbench)")
  # shellcheck disable=SC2086 # the command line is split into its words on purpose
  out=$($SLEEP)
  wall=$(field wall_s "$out")
  if [ "$(field verified "$out")" = true ] && [ "$wall" != null ]; then
    echo "$wall $floor $(field tree_rss_kb "$out")" >>"$rows"
  else
    echo "sleep round $((r + 1)) failed: $(field error "$out")"
  fi
  r=$((r + 1))
done
if [ -s "$rows" ]; then
  echo "sleep 100000 x 1 s, $(wc -l <"$rows") of $ROUNDS rounds verified: wall $(cut -d' ' -f1 "$rows" | median) s," \
    "floor $(cut -d' ' -f2 "$rows" | median) s, wall - floor $(awk '{ print $1 - $2 }' "$rows" | median) s," \
    "tree_rss_kb max $(cut -d' ' -f3 "$rows" | sort -n | tail -1)    [$SLEEP, each after $ASM microbench]"
fi
cell "http 1000 x 4 x 100 ms" wall_s verified -- $ASM run --model green --workload http --tasks 1000
cell "http 1000 x 4 x 100 ms, bytes=0" wall_s verified -- $ASM run --model green --workload http --tasks 1000 --param bytes=0
cell "spawn 1000000 leaves" wall_s ns_per_spawn bytes_per_task peak_live created verified -- $ASM run --model green --workload spawn --tasks 1
