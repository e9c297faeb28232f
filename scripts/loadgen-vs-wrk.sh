#!/bin/sh
# loadgen-vs-wrk.sh [BIN_DIR] — cross-checks bin/loadgen's closed-loop req/s against
# wrk's (Debian's wrk) on the same server: bin/delayd (ms=0, bytes=1024) on a free
# loopback port, then `wrk -t1 -c100 -d5s` and `loadgen --connections 100
# --duration 5` one after the other, each pinned with taskset to another core than
# delayd where there are at least two, REPEAT times each in turn. Prints every rate
# and the ratio of the best of each; exits 1 when they differ by more than 10% (or
# when either fails), 2 when a tool is missing.
# BIN_DIR defaults to bin (use out/NAME/bin for a make OUT=out/NAME/ build).
# DURATION (5), CONNS (100) and REPEAT (3) may be set in the environment.
set -eu
bin=${1:-bin}
dur=${DURATION:-5}
conns=${CONNS:-100}
for t in "$bin/delayd" "$bin/loadgen"; do
  [ -x "$t" ] || { echo "loadgen-vs-wrk: $t missing (make first)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "loadgen-vs-wrk: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

cores=$(nproc)
if [ "$cores" -ge 2 ]; then
  srv_pin="taskset -c 0"
  cli_pin="taskset -c 1"
  pinning="delayd on core 0, clients on core 1"
else
  srv_pin=""
  cli_pin=""
  pinning="one core: not pinned"
fi

tmp=$(mktemp -d)
delayd_pid=""
cleanup() {
  [ -n "$delayd_pid" ] && kill "$delayd_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

$srv_pin "$bin/delayd" --port 0 >"$tmp/url" 2>"$tmp/delayd.err" &
delayd_pid=$!
for _ in $(seq 50); do
  [ -s "$tmp/url" ] && break
  sleep 0.1
done
url=$(head -n 1 "$tmp/url")
[ -n "$url" ] || { echo "loadgen-vs-wrk: delayd did not start: $(cat "$tmp/delayd.err")" >&2; exit 1; }
hostport=${url#http://}
path="/?ms=0&bytes=1024&seed=7"

# The two tools run in turn, REPEAT times each (default 3), and the best rate of each
# is compared: on a shared machine other work only ever lowers a rate, so the best
# of a few runs is the steadiest figure. Every run's rate is printed.
repeat=${REPEAT:-3}
wrk_all=""
lg_all=""
lg_cpu_all=""
i=0
while [ "$i" -lt "$repeat" ]; do
  i=$((i + 1))
  $cli_pin wrk -t1 -c"$conns" -d"${dur}s" "$url$path" >"$tmp/wrk.out" 2>&1 || {
    echo "loadgen-vs-wrk: wrk failed: $(cat "$tmp/wrk.out")" >&2
    exit 1
  }
  if grep -q "Non-2xx\|Socket errors" "$tmp/wrk.out"; then
    echo "loadgen-vs-wrk: wrk saw errors:" >&2
    cat "$tmp/wrk.out" >&2
    exit 1
  fi
  r=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$tmp/wrk.out")
  [ -n "$r" ] || { echo "loadgen-vs-wrk: could not read wrk's rate: $(cat "$tmp/wrk.out")" >&2; exit 1; }
  wrk_all="$wrk_all $r"
  $cli_pin "$bin/loadgen" --connect "$hostport" --proto http --connections "$conns" --duration "$dur" \
    --path "$path" --seed 7 --bytes 1024 >"$tmp/lg.json" 2>"$tmp/lg.err" || {
    echo "loadgen-vs-wrk: loadgen failed: $(cat "$tmp/lg.json" "$tmp/lg.err")" >&2
    exit 1
  }
  r=$(sed -n 's/.*"req_per_s":\([0-9.e+]*\).*/\1/p' "$tmp/lg.json")
  c=$(sed -n 's/.*"generator_cpu":\([0-9.e+]*\).*/\1/p' "$tmp/lg.json")
  [ -n "$r" ] || { echo "loadgen-vs-wrk: could not read loadgen's rate: $(cat "$tmp/lg.json")" >&2; exit 1; }
  lg_all="$lg_all $r"
  lg_cpu_all="$lg_cpu_all $c"
done

awk -v w="$wrk_all" -v l="$lg_all" -v c="$lg_cpu_all" -v p="$pinning" -v n="$conns" -v d="$dur" 'BEGIN {
  nw = split(w, W, " "); nl = split(l, L, " "); split(c, C, " ")
  bw = 0; for (k = 1; k <= nw; k++) if (W[k] + 0 > bw) bw = W[k] + 0
  bl = 0; for (k = 1; k <= nl; k++) if (L[k] + 0 > bl) { bl = L[k] + 0; bc = C[k] }
  r = bl / bw
  printf "delayd ms=0 bytes=1024, %d connections, %d s per run, %s\n", n, d, p
  printf "wrk     runs:"; for (k = 1; k <= nw; k++) printf " %.0f", W[k]; printf " req/s, best %.0f\n", bw
  printf "loadgen runs:"; for (k = 1; k <= nl; k++) printf " %.0f", L[k]; printf " req/s, best %.0f (generator_cpu %.2f)\n", bl, bc
  printf "ratio loadgen/wrk (best of each) %.3f: %s\n", r, (r >= 0.9 && r <= 1.1) ? "within 10%" : "DIFFER BY MORE THAN 10%"
  exit !(r >= 0.9 && r <= 1.1)
}'
