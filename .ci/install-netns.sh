#!/usr/bin/env bash
# Install what the network-namespace tests need (test/gossip/netns.test.ts, test/gossip/wan.test.ts):
# iproute2 (ip netns, tc tbf) and Debian's nftables (packet loss on WAN links: this kernel has no
# netem qdisc; docs/gossip.md "Real networks"). Idempotent; needs root (the tests do too).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PKGS=(iproute2 nftables)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-netns: all packages already installed"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-netns: not root; the namespace tests need root and will skip with a reason" >&2
  exit 0
fi
apt-get update
apt-get install -y "${missing[@]}"
echo "install-netns: done"
