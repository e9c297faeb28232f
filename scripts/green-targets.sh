#!/bin/sh
# green-targets.sh — measures the green runtime against the targets of issue 3, each
# as a concbench cell or microbench, and prints one line per figure with the command.
# Needs `make` and `make GREEN_SWITCH=ucontext` first. Timing is machine-dependent:
# compare ratios within one run.
set -eu
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
mb=$($ASM microbench)
show "microbench asm" "$mb" "$ASM microbench" ns_per_raw_switch ns_per_yield ns_per_chan_handoff ns_write_hooked \
  ns_write_libc hook_overhead_ratio ns_per_fresh_page ns_per_page_unmap
echo "sleep floor: 1 s + 100000 x (fresh page + unmap) = $(awk -v f="$(field ns_per_fresh_page "$mb")" \
  -v u="$(field ns_per_page_unmap "$mb")" 'BEGIN { printf "%.3f s", 1 + 100000 * (f + u) / 1e9 }')"
cell "microbench ucontext" ns_per_raw_switch ns_per_yield ns_per_chan_handoff -- $UCTX microbench
cell "pingpong green asm" ns_per_switch verified -- $ASM run --model green --workload pingpong --tasks 1 --param rounds=2000000
cell "pingpong green ucontext" ns_per_switch verified -- $UCTX run --model green --workload pingpong --tasks 1 --param rounds=200000
cell "pingpong threads" ns_per_switch verified -- $ASM run --model threads --workload pingpong --tasks 1 --param rounds=50000
cell "pingpong procs" ns_per_switch verified -- $ASM run --model procs --workload pingpong --tasks 1 --param rounds=50000
cell "sleep 100000 x 1 s" wall_s tree_rss_kb verified -- $ASM run --model green --workload sleep --tasks 100000 --param ms=1000
cell "http 1000 x 4 x 100 ms" wall_s verified -- $ASM run --model green --workload http --tasks 1000
cell "http 1000 x 4 x 100 ms, bytes=0" wall_s verified -- $ASM run --model green --workload http --tasks 1000 --param bytes=0
cell "spawn 1000000 leaves" wall_s ns_per_spawn bytes_per_task peak_live created verified -- $ASM run --model green --workload spawn --tasks 1
