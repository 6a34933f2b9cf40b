#!/bin/bash
# A network, a security group letting ssh in from its own members, and an
# instance with a nic on the network: it gets an address at once, and a
# second nic cannot pin the same one.
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
echo "overlay id $(cat "$vdc/networks/demo-net/run/vni"), DHCP server $(cat "$vdc/networks/demo-net/run/dhcp-server")"
echo "demo-db's eth0: $(cat "$vdc/instances/demo-db/nics/eth0/run/ip") $(cat "$vdc/instances/demo-db/nics/eth0/run/mac")"

# A copy: its nic wants demo-db's address and MAC (auto-ip and mac, written
# down so an archive carries them) and has its own while demo-db has them.
cp -r "$vdc/instances/demo-db" "$vdc/instances/demo-db2"
c=$vdc/instances/demo-db2/nics/eth0
echo "demo-db2's eth0: $(cat "$c/run/ip") $(cat "$c/run/mac"), wants $(cat "$c/auto-ip") $(cat "$c/mac")"
cat "$c/run/err"
rmdir "$vdc/instances/demo-db2"

# Pin an address on a second instance; the first one's is refused.
mkdir "$vdc/instances/demo-web"
mkdir "$vdc/instances/demo-web/nics/eth0"
ln -s ../../../../networks/demo-net "$vdc/instances/demo-web/nics/eth0/network"
if echo "$(cat "$vdc/instances/demo-db/nics/eth0/run/ip")" > "$vdc/instances/demo-web/nics/eth0/ip" 2>/dev/null; then
	echo "expected EADDRINUSE" >&2
	exit 1
fi
cat "$vdc/instances/demo-web/nics/eth0/run/err"
echo 198.51.100.10 > "$vdc/instances/demo-web/nics/eth0/ip"
cat "$vdc/instances/demo-web/nics/eth0/run/ip"
rmdir "$vdc/instances/demo-web"

# The network is in use, so it cannot go away.
if rmdir "$vdc/networks/demo-net" 2>/dev/null; then
	echo "expected EBUSY" >&2
	exit 1
fi
cat "$vdc/networks/demo-net/run/err"

rmdir "$vdc/instances/demo-db"
rmdir "$vdc/security-groups/demo-ssh" "$vdc/networks/demo-net"
