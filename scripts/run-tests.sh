#!/bin/sh
# run-tests.sh — runs every test binary given and prints one line per binary and one
# closing summary line: "tests: N passed, N failed". Exits non-zero if any test
# failed, crashed or timed out, or a binary left a process behind. A failing
# binary's whole log is printed where it ran; its failing tests are listed again
# just before the summary line, so the tail of a CI log names them.
#
# Each test runs isolated in its own process with a timeout, by Criterion: the
# test's or its suite's .timeout, else the default of tests/helpers/timeout.c.
# Backstops around each binary, for what Criterion cannot catch (its runner hung,
# a fini that never returns):
#   - the whole binary gets TEST_BINARY_TIMEOUT seconds (default 300; coreutils
#     timeout signals the binary's process group, then SIGKILL 10 s later); a binary
#     killed that way counts as one failure, named;
#   - every process a binary started carries CB_TEST_TAG in its environment; one
#     still alive 5 s after the binary ended (a delayd, a worker) is listed, killed
#     by its PID and counted as one failure.
set -u
passed=0
failed=0
recap=""
limit=${TEST_BINARY_TIMEOUT:-300}

# PIDs of live processes whose environment holds CB_TEST_TAG=$1 (Linux /proc).
tagged() {
  grep -lxzF "CB_TEST_TAG=$1" /proc/[0-9]*/environ 2>/dev/null | sed 's|^/proc/\([0-9]*\)/environ$|\1|'
}

for bin in "$@"; do
  # variant/binary, e.g. asm/test_cli, ucontext/test_green_switch
  name="$(basename "$(dirname "$(dirname "$bin")")")/$(basename "$bin")"
  log=$(mktemp)
  tag="run-tests-$$-$(printf '%s' "$name" | tr '/' '-')"
  CB_TEST_TAG=$tag timeout -k 10 "$limit" "$bin" --jobs 1 >"$log" 2>&1
  rc=$?
  synth=$(grep 'Synthesis:' "$log" | tail -n 1)
  p=$(printf '%s' "$synth" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
  f=$(printf '%s' "$synth" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
  p=${p:-0}
  f=${f:-0} # Criterion's Failing includes the Crashing ones
  if [ -z "$synth" ] || { [ "$rc" != 0 ] && [ "$f" = 0 ]; }; then f=$((f + 1)); fi
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    synth="TIMED OUT: killed after ${limit} s (TEST_BINARY_TIMEOUT)"
  fi
  # children exit with their parent (PR_SET_PDEATHSIG) a moment later: give them 5 s
  left=$(tagged "$tag")
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -z "$left" ] && break
    sleep 0.5
    left=$(tagged "$tag")
  done
  if [ -n "$left" ]; then
    f=$((f + 1))
    synth="${synth:-no summary (exit $rc)}; LEFT PROCESSES BEHIND:"
    for pid in $left; do
      synth="$synth $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))"
      kill "$pid" 2>/dev/null
    done
    sleep 1
    for pid in $(tagged "$tag"); do kill -9 "$pid" 2>/dev/null; done
  fi
  if [ "$f" != 0 ] || [ "$rc" != 0 ]; then
    cat "$log"
    # Criterion names each failing test on a "[FAIL] suite::test: ..." line (also for
    # a crash or a timeout) and the assertion's place and message on "[----]" lines
    recap="$recap$name: ${synth:-no summary (exit $rc)}
$(grep -F -e '[FAIL]' -e '[----]' "$log" | grep -v '^\[----\] *$' | head -n 30)
"
  fi
  printf '%-40s %s\n' "$name" "${synth:-no summary (exit $rc)}"
  passed=$((passed + p))
  failed=$((failed + f))
  rm -f "$log"
done
[ -n "$recap" ] && printf 'failing binaries and tests:\n%s' "$recap"
echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
