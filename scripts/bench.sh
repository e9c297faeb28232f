#!/bin/sh
# bench.sh — `make bench`, first version: hyperfine over models × {pow, http} at a
# small size, every run's cell JSON kept, then `concbench report` writes the table
# and the chart. Results go to results/<run-id>/ (results/latest points at it).
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
RUNS=${RUNS:-5}
MODELS=${MODELS:-"sync threads procs"}

run_id=$(date -u +%Y%m%dT%H%M%SZ)
dir=results/$run_id
mkdir -p "$dir/hyperfine" "$dir/cells"
sh scripts/meta.sh "$BIN" >"$dir/meta.json"

# One delayd for the whole bench: cells get --server, so no cell times a server start.
server_out=$(mktemp)
"$BIN/delayd" --port 0 >"$server_out" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; rm -f "$server_out"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$server_out" ] && break; sleep 0.2; done
server=$(head -n 1 "$server_out")
[ -n "$server" ] || { echo "bench: delayd did not start" >&2; exit 1; }

# cell: id, then concbench run arguments
cell() {
  id=$1
  shift
  echo "bench: $id"
  if ! hyperfine -N --style basic --warmup 1 --runs "$RUNS" \
      --export-json "$dir/hyperfine/$id.json" \
      "$BIN/concbench run $* --out $dir/cells/$id.jsonl" >"$dir/hyperfine/$id.log" 2>&1; then
    echo "bench: $id FAILED (see $dir/hyperfine/$id.log)"
  fi
}

for model in $MODELS; do
  cell "pow-$model" --model "$model" --workload pow --tasks 40
  cell "http-$model" --model "$model" --workload http --tasks 10 \
    --param requests=2 --param delay_ms=50 --server "$server"
done

ln -sfn "$run_id" results/latest
"$BIN/concbench" report "$dir"
echo "bench: results in $dir (tables.md, chart.png, chart.svg)"
