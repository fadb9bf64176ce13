#!/usr/bin/env bash
# One-way PurchaseOrder streams into `overlap serve orders` and into a Mono
# WCF service host, side by side: messages/s and orders/s with 1 and 100
# sessions (docs/BENCHMARKS.md, "net.tcp orders"). Needs Mono
# (scripts/deps/mono.sh). Usage: scripts/bench-orders.sh [SECONDS] [PER_MESSAGE]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
per=${2:-100}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

go build -o "$tmp/overlap" ./cmd/overlap
mcs -nologo -out:"$tmp/server.exe" -r:System.ServiceModel.dll -r:System.Runtime.Serialization.dll -r:System.Xml.dll \
	services/orders/testdata/wcf/contract.cs services/orders/testdata/wcf/server.cs

echo "== overlap serve orders (one loop per CPU; orders stored in memory, not printed)"
"$tmp/overlap" serve orders --addr 127.0.0.1:28808 --print=false >"$tmp/serve.out" 2>"$tmp/serve.err" &
serve=$!
until grep -q listening "$tmp/serve.out" 2>/dev/null; do
	kill -0 $serve 2>/dev/null || { cat "$tmp/serve.err"; exit 1; }
	sleep 0.1
done
for s in 1 100; do
	"$tmp/overlap" bench orders --url net.tcp://127.0.0.1:28808/example --sessions "$s" --per-message "$per" --duration "${secs}s" --quiet
done
kill $serve
wait $serve || true

echo "== Mono WCF service host (CustomBinding: text SOAP 1.2 + TcpTransport)"
for s in 1 100; do
	mkfifo "$tmp/in$s"
	mono "$tmp/server.exe" 28810 28811 quiet <"$tmp/in$s" >"$tmp/mono$s.out" 2>"$tmp/mono$s.err" &
	host=$!
	exec 3>"$tmp/in$s"
	until grep -q ready "$tmp/mono$s.out" 2>/dev/null; do
		kill -0 $host 2>/dev/null || { cat "$tmp/mono$s.err"; exit 1; }
		sleep 0.1
	done
	"$tmp/overlap" bench orders --url net.tcp://127.0.0.1:28811/stream --sessions "$s" --per-message "$per" --duration "${secs}s" --quiet || true
	# The host's own count: messages read, from the first to the last.
	echo >&3
	sleep 1
	read -r _ msgs orders span < <(grep total "$tmp/mono$s.out" | tail -1)
	echo "mono host, sessions $s: $msgs messages, $orders orders read in ${span}s: $(awk "BEGIN{printf \"%.0f messages/s, %.0f orders/s\", $msgs/$span, $orders/$span}")"
	exec 3>&-
	wait $host || true
done
