#!/usr/bin/env bash
# Independent peer clients for the pipes service tests (e2e/pipes_clients_test.go):
# Debian's python3-grpcio, with python3-protobuf and protoc to generate its
# message classes, and Node's @grpc/grpc-js, pinned in
# clients/node/package-lock.json. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/../.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

need=()
for pkg in python3-grpcio python3-protobuf protobuf-compiler; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
command -v npm >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need[@]}"
fi

# npm ci only when node_modules does not hold what the lock file pins.
if ! (cd clients/node && npm ls --all >/dev/null 2>&1); then
	(cd clients/node && npm ci --no-audit --no-fund --loglevel=error)
fi

{
	echo "OVERLAP_PIPES_PYTHON=/usr/bin/python3"
	echo "OVERLAP_PIPES_PROTOC=$(command -v protoc)"
	echo "OVERLAP_PIPES_NODE=$(command -v node)"
} >>"$OVERLAP_DEPS_ENV"
