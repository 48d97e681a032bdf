#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need (Debian 12, as root).
# Skips apt entirely when everything is already present.
set -euo pipefail
pkgs=(build-essential clang llvm libclang-rt-14-dev pkg-config check libsubunit-dev libpcap-dev
      zlib1g-dev tcpdump socat netcat-openbsd dnsmasq-base hping3 iputils-ping iproute2 curl python3
      liblwip-dev groff-base nginx-light redis-server redis-tools iperf3 wrk openssh-server openssh-client
      apache2-utils ethtool)
# Servers the `ustack run` tests start themselves, each with its own config, port and temp dir,
# inside the test namespaces only. Their packages must not leave them running system-wide.
services=(nginx redis-server ssh)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then echo "deps: need root to install packages" >&2; exit 1; fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # No service starts during the install: a policy-rc.d that says no (unless one is there).
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy=/usr/sbin/policy-rc.d
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { rc=$?; [ -z "$policy" ] || rm -f "$policy"; exit "$rc"; }
    [ -z "$policy" ] || rm -f "$policy"
    # Where an init system runs, keep those services stopped and off.
    if [ -d /run/systemd/system ]; then
        for s in "${services[@]}"; do
            systemctl disable --now "$s" >/dev/null 2>&1 || true
        done
    fi
fi
