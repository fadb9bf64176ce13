#!/usr/bin/env bash
# Installs Debian's PostgreSQL when missing and starts a throwaway cluster on
# loopback for the store tests; tells them its URL as OVERLAP_TEST_POSTGRES.
# Safe to run twice: a cluster already running is reused.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "installing postgresql (Debian)"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DIR=${OVERLAP_PG_DIR:-/tmp/overlap-pg}
PORT=${OVERLAP_PG_PORT:-55432}
# initdb refuses to run as root: run the cluster as the postgres user then.
AS=()
if [ "$(id -u)" = 0 ]; then
	AS=(runuser -u postgres --)
fi
if ! "${AS[@]}" "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
	rm -rf "$DIR"
	mkdir -p "$DIR"
	[ "$(id -u)" = 0 ] && chown postgres: "$DIR"
	"${AS[@]}" "$BIN/initdb" -D "$DIR" -A trust -U overlap -E UTF8 >/dev/null
	"${AS[@]}" "$BIN/pg_ctl" -D "$DIR" -l "$DIR/log" -w -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
fi
echo "OVERLAP_TEST_POSTGRES=postgres://overlap@127.0.0.1:$PORT/postgres?sslmode=disable" >> "${OVERLAP_DEPS_ENV:-/dev/null}"
echo "postgres ready on 127.0.0.1:$PORT ($("$BIN/postgres" --version))"
