#!/bin/sh
# run-tests.sh — runs every test binary given (each test isolated in its own
# process with a timeout, by Criterion) and prints one closing summary line:
# "tests: N passed, N failed". Exits non-zero if any test failed or crashed.
set -u
passed=0
failed=0
for bin in "$@"; do
  log=$(mktemp)
  "$bin" --jobs 1 >"$log" 2>&1
  rc=$?
  synth=$(grep 'Synthesis:' "$log" | tail -n 1)
  p=$(printf '%s' "$synth" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
  f=$(printf '%s' "$synth" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
  c=$(printf '%s' "$synth" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
  p=${p:-0}
  f=$(( ${f:-0} + ${c:-0} ))
  if [ -z "$synth" ] || { [ "$rc" != 0 ] && [ "$f" = 0 ]; }; then f=$((f + 1)); fi
  if [ "$f" != 0 ] || [ "$rc" != 0 ]; then cat "$log"; fi
  # variant/binary, e.g. asm/test_cli, ucontext/test_green_switch
  printf '%-40s %s\n' "$(basename "$(dirname "$(dirname "$bin")")")/$(basename "$bin")" "${synth:-no summary (exit $rc)}"
  passed=$((passed + p))
  failed=$((failed + f))
  rm -f "$log"
done
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
