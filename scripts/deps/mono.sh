#!/usr/bin/env bash
# Mono with WCF, for the net.tcp tests against real WCF clients and
# services (protocols/nettcp/wcf_test.go), and tshark, whose mc-nmf
# dissector checks our framing. Idempotent: installs only what is missing.
set -euo pipefail

pkgs=(mono-runtime mono-mcs libmono-system-servicemodel4.0a-cil libmono-system-runtime-serialization4.0-cil tshark)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing ${missing[*]}"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

{
	echo "OVERLAP_MONO=$(command -v mono)"
	echo "OVERLAP_MCS=$(command -v mcs)"
	echo "OVERLAP_TSHARK=$(command -v tshark)"
} >> "${OVERLAP_DEPS_ENV:?scripts/test sets OVERLAP_DEPS_ENV}"
