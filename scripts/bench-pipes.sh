#!/usr/bin/env bash
# Chunks/s and MB/s through an echoing IntPipe, overlap-served vs net-served:
# `overlap serve pipes --transport net|overlap` in one process, `overlap send
# pipe --call ints` in another, on loopback, rounds interleaved so that
# disturbances hit both transports alike. Prints the median of each case.
# Usage: scripts/bench-pipes.sh [ROUNDS (5)] [SECONDS PER RUN (3)]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
secs=${2:-3}
dir=$(mktemp -d)
pid=""
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/overlap" ./cmd/overlap
for len in 64 16384; do
	for r in $(seq "$rounds"); do
		for tr in net overlap; do
			: >"$dir/ready" # emptied here, not by the child, which may start late
			"$dir/overlap" serve pipes --addr 127.0.0.1:0 --transport "$tr" >>"$dir/ready" 2>/dev/null &
			pid=$!
			addr=""
			for _ in $(seq 200); do
				addr=$(awk '/listening on/ {print $4}' "$dir/ready")
				[ -n "$addr" ] && break
				sleep 0.05
			done
			printf '%s %s ' "$tr" "$len" >>"$dir/results"
			"$dir/overlap" send pipe --addr "$addr" --call ints --chunks 0 --duration "${secs}s" --chunk-len "$len" --quiet --json >>"$dir/results"
			kill -TERM "$pid"
			wait "$pid"
			pid=""
		done
	done
done
python3 - "$dir/results" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    tr, n, js = line.split(" ", 2)
    r = json.loads(js)
    runs.setdefault((int(n), tr), []).append((r["chunks_per_sec"], r["mb_per_sec"]))
print(f"{'values/chunk':>12} {'transport':>9} {'chunks/s (median)':>18} {'MB/s (median)':>14}  runs")
for (n, tr), rs in sorted(runs.items()):
    c = statistics.median(x[0] for x in rs)
    m = statistics.median(x[1] for x in rs)
    print(f"{n:>12} {tr:>9} {c:>18.0f} {m:>14.1f}  {' '.join(f'{x[0]:.0f}' for x in rs)}")
PY
