#!/bin/bash
# A network, a security group letting ssh in from its own members, and an
# instance with a nic on the network.
# Usage: examples/02-network-and-security-group.sh [MOUNTPOINT]
set -euo pipefail
vdc=${1:-/vdc}

mkdir "$vdc/networks/demo-net"
echo 198.51.100.0/24 > "$vdc/networks/demo-net/cidr"
echo 198.51.100.1 > "$vdc/networks/demo-net/gateway"

mkdir "$vdc/security-groups/demo-ssh"
cat > "$vdc/security-groups/demo-ssh/rules" <<RULES
# one rule a line: DIRECTION PROTOCOL PORTS PEER
in tcp 22 sg:demo-ssh
in icmp - 198.51.100.0/24
RULES
echo 'in tcp 80-81 0.0.0.0/0' >> "$vdc/security-groups/demo-ssh/rules"

mkdir "$vdc/instances/demo-db"
mkdir "$vdc/instances/demo-db/nics/eth0"
ln -s ../../../../networks/demo-net "$vdc/instances/demo-db/nics/eth0/network"
ln -s ../../../security-groups/demo-ssh "$vdc/instances/demo-db/security-groups/demo-ssh"
ls -l "$vdc/instances/demo-db/nics/eth0" "$vdc/instances/demo-db/security-groups"

# The network is in use, so it cannot go away.
if rmdir "$vdc/networks/demo-net" 2>/dev/null; then
	echo "expected EBUSY" >&2
	exit 1
fi
cat "$vdc/networks/demo-net/run/err"

rmdir "$vdc/instances/demo-db"
rmdir "$vdc/security-groups/demo-ssh" "$vdc/networks/demo-net"
