#!/bin/sh
# run.sh: reproduce the overlap peer benchmarks (docs/BENCHMARKS.md).
# Builds every engine and the C load generator, runs the full suite (about
# 20 minutes on 2 cores), prints the markdown tables and keeps them, with the
# raw results, in bench/bin/latest.md and bench/bin/latest.json.
# Extra arguments go to the harness, e.g. ./run.sh -quick
set -eu
cd "$(dirname "$0")"
mkdir -p bin
go run ./cmd/harness -md -json bin/latest.json "$@" | tee bin/latest.md
