#!/usr/bin/env bash
# Installs Debian's Chromium for the admin page's browser tests (e2e/admin_browser_test.go)
# and tells them where it is as OVERLAP_CHROMIUM. Safe to run twice.
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if ! command -v chromium >/dev/null; then
	echo "installing chromium (Debian)"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
echo "OVERLAP_CHROMIUM=$(command -v chromium)" >> "${OVERLAP_DEPS_ENV:-/dev/null}"
echo "chromium ready: $(chromium --version 2>/dev/null || echo unknown)"
