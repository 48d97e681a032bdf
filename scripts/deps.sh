#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need (Debian 12, as root).
# Skips apt entirely when everything is already present.
set -euo pipefail
pkgs=(build-essential clang llvm libclang-rt-14-dev pkg-config check libsubunit-dev libpcap-dev tcpdump socat
      netcat-openbsd dnsmasq-base hping3 iputils-ping iproute2 curl python3 liblwip-dev
      groff-base)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then echo "deps: need root to install packages" >&2; exit 1; fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
