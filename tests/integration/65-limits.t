# Issue 11, item 4: every limit an agent enforces is enforced by vdcfs
# first, at the write(2), mkdir(2) or symlink(2) that would break it, with
# the errno and a sentence in run/err (backend/vdc_limits.h, docs/tree.md
# "Limits"). The per-host total, networks on one hypervisor host, is met
# with a host played by curl (as in 86-agent-protocol.t: no libvirt, no
# guests): the 257th network fails with ENOSPC, and an instance that would
# take a host past it is unschedulable with the reason; likewise the
# 1025th security group.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null && command -v jq >/dev/null || skip_all "curl or jq is missing (scripts/install-deps)"
VDCFS_OPTS="${VDCFS_OPTS:+$VDCFS_OPTS,}heartbeat=60,host-timeout=3600"
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
vdc_start
I=$MNT/instances

# ---- an instance's own limits ----
mkdir "$I/web1"
fails_with ERANGE "cpus 129 (vdc-hva takes 1-128)" put 129 "$I/web1/cpus"
is "$(get "$I/web1/cpus")" 1 "cpus keeps its value"
like "$(get "$I/web1/run/err")" "cpus" "run/err says why"
fails_with ERANGE "memory 32M (vdc-hva takes 64M-1T)" put 32M "$I/web1/memory"
fails_with ERANGE "memory 2T" put 2T "$I/web1/memory"
is "$(get "$I/web1/memory")" 512M "memory keeps its value"

for n in $(seq 0 15); do mkdir "$I/web1/nics/eth$n" || break; done
is "$(ls "$I/web1/nics" | wc -l)" 16 "16 nics are made"
fails_with ENOSPC "the 17th nic (vdc-hva takes 16 an instance)" mkdir "$I/web1/nics/eth16"
ok "and is not made" test ! -e "$I/web1/nics/eth16"
like "$(get "$I/web1/run/err")" "instance web1 has 16 nics already; it takes at most 16" "run/err says so"
rmdir "$I/web1/nics/eth15"
ok "below the limit again, a nic is made" mkdir "$I/web1/nics/eth15b"

for n in $(seq 0 16); do mkdir "$MNT/volumes/v$n"; done
for n in $(seq 0 15); do ln -s "../../../volumes/v$n" "$I/web1/volumes/v$n" || break; done
fails_with ENOSPC "the 17th volume (vdc-hva takes 16 an instance)" ln -s ../../../volumes/v16 "$I/web1/volumes/v16"
like "$(get "$I/web1/run/err")" "volumes/ holds at most 16 links" "run/err says so"
is "$(ls "$I/web1/volumes" | wc -l)" 16 "16 volumes stay linked"

mkdir "$MNT/volumes/snapped"
for n in $(seq 1 1024); do mkdir "$MNT/volumes/snapped/snapshots/s$n" || break; done
is "$(ls "$MNT/volumes/snapped/snapshots" | wc -l)" 1024 "1024 snapshots are made"
fails_with ENOSPC "the 1025th snapshot (vdc-sta takes 1024 a volume)" mkdir "$MNT/volumes/snapped/snapshots/s1025"
like "$(get "$MNT/volumes/snapped/run/err")" "volume snapped has 1024 snapshots already; it takes at most 1024" "run/err says so"

mkdir "$MNT/ssh-keys/empty" "$MNT/ssh-keys/me"
fails_with EINVAL "linking an empty ssh key (vdc-hva refuses it)" ln -s ../../../ssh-keys/empty "$I/web1/ssh-keys/empty"
like "$(get "$I/web1/run/err")" "ssh key empty is empty; write its public-key before linking it" "run/err says so"
ok "and no link is made" test ! -L "$I/web1/ssh-keys/empty"
put "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDz+V/0O9gk7CknUA4iTg2BZ8U3k41Spl2mfyQ3EKW2k me@x" "$MNT/ssh-keys/me/public-key"
ok "a key with a value links" ln -s ../../../ssh-keys/me "$I/web1/ssh-keys/me"
fails_with EINVAL "emptying a linked key" put "" "$MNT/ssh-keys/me/public-key"
like "$(get "$MNT/ssh-keys/me/run/err")" "ssh key me is linked by 1 instance; unlink it before emptying it" "run/err of the key says so"
like "$(get "$MNT/ssh-keys/me/public-key")" "^ssh-ed25519 " "the key keeps its value"

# ---- networks on one host ----
read -r -a JOIN < "$MNT/hosts/join"
SRV=${JOIN[2]} PIN=${JOIN[4]} JTOKEN=${JOIN[6]}
api() {   # api METHOD PATH TOKEN [curl args...]: prints the body only
	local m=$1 p=$2 t=$3
	shift 3
	timeout 40 curl -sS -k --pinnedpubkey "$PIN" -X "$m" -H "Authorization: Bearer $t" "$@" "https://$SRV$p"
}
T=$(api POST /v1/join "" -d '{"name":"hv1","token":"'"$JTOKEN"'","kind":"hva"}' | jq -r .token)
api POST /v1/hosts/hv1/report "$T" -d '{"epoch":1,"seq":1,"rev":0,"facts":{"cpus":64,"memory_mib":65536,"driver":"qemu","virt":"tcg","libvirt":"9.0.0","version":"t"},"instances":[]}' > /dev/null
is "$(get "$MNT/hosts/hv1/run/state")" up "a host played by curl is up"

mkdir "$MNT/images/tiny"
for n in $(seq 0 256); do
	mkdir "$MNT/networks/n$n" && put "10.$((n / 256)).$((n % 256)).0/24" "$MNT/networks/n$n/cidr" || break
done
is "$(ls "$MNT/networks" | wc -l)" 257 "257 networks are made"
# Sixteen instances of sixteen nics, each nic on a network of its own: 256.
for k in $(seq 0 15); do
	mkdir "$I/i$k"
	ln -s ../../images/tiny "$I/i$k/image"
	put 64M "$I/i$k/memory"
	for n in $(seq 0 15); do
		mkdir "$I/i$k/nics/eth$n" && ln -s ../../../../networks/n$((k * 16 + n)) "$I/i$k/nics/eth$n/network" || break 2
	done
	put on "$I/i$k/power"
done
is "$(cat "$I"/i*/run/host | sort -u)" hv1 "the sixteen are placed on hv1"
is "$(api GET '/v1/hosts/hv1/desired?rev=0' "$T" | jq '.networks | length')" 256 "its desired state carries 256 networks"
mkdir "$I/i16"; mkdir "$I/i16/nics/eth0"; mkdir "$I/i16/nics/eth1"
ln -s ../../images/tiny "$I/i16/image"
put 64M "$I/i16/memory"
ln -s ../../../../networks/n0 "$I/i16/nics/eth0/network"
put on "$I/i16/power"
is "$(get "$I/i16/run/host")" hv1 "an instance on a network hv1 carries already is placed there"
fails_with ENOSPC "its nic on the 257th network fails" ln -s ../../../../networks/n256 "$I/i16/nics/eth1/network"
like "$(get "$I/i16/nics/eth1/run/err")" "host hv1, where instance i16 is placed, carries 256 networks already, the most one host takes \(256\); nic eth1 cannot be on network n256 there" \
	"run/err of the nic says why"
ok "and no link is made" test ! -L "$I/i16/nics/eth1/network"
ok "the same nic on a network hv1 carries is fine" ln -s ../../../../networks/n17 "$I/i16/nics/eth1/network"
fails_with ENOSPC "moving a nic of a placed instance to the 257th network fails too" \
	bash -c "rm '$I/i0/nics/eth0/network' && ln -s ../../../../networks/n256 '$I/i0/nics/eth0/network'"
mkdir "$I/late"; mkdir "$I/late/nics/eth0"
ln -s ../../images/tiny "$I/late/image"
put 64M "$I/late/memory"
ok "a nic of an instance not placed may be on the 257th network" ln -s ../../../../networks/n256 "$I/late/nics/eth0/network"
put on "$I/late/power"
is "$(get "$I/late/run/state")" unschedulable "but it cannot be placed on hv1"
like "$(get "$I/late/run/err")" "no host can take this instance's networks and security groups: on each of the 1 schedulable hosts they would pass the most one host takes \(256 networks, 1024 security groups, 32767 nics on networks\)" \
	"run/err says it is the networks"
is "$(api GET '/v1/hosts/hv1/desired?rev=0' "$T" | jq '.networks | length')" 256 "hv1's desired state still carries 256 networks"

# ---- security groups on one host ----
# A host's desired state names the groups of its instances and, through
# their rules, every sg:NAME peer (which need not exist): four hubs of 255
# peers each make 1024.
for h in 0 1 2 3; do
	mkdir "$MNT/security-groups/hub$h"
	for p in $(seq 1 255); do echo "in tcp 22 sg:p$h-$p"; done | putb "$MNT/security-groups/hub$h/rules"
	ln -s "../../../security-groups/hub$h" "$I/i16/security-groups/hub$h" || break
done
is "$(api GET '/v1/hosts/hv1/desired?rev=0' "$T" | jq '.security_groups | length')" 1024 "hv1's desired state names 1024 security groups"
mkdir "$MNT/security-groups/one-more" "$MNT/security-groups/p0-1"
fails_with ENOSPC "a placed instance joining the 1025th group fails" ln -s ../../../security-groups/one-more "$I/i16/security-groups/one-more"
like "$(get "$I/i16/run/err")" "host hv1, where instance i16 is placed, would carry more than 1024 security groups .*; instance i16 cannot join group one-more there" \
	"run/err says why"
ok "a group hv1 names already may be joined" ln -s ../../../security-groups/hub0 "$I/i15/security-groups/hub0"
fails_with ENOSPC "rules naming a 1025th group, of a group hv1 names, fail" put "in tcp 22 sg:p-new" "$MNT/security-groups/p0-1/rules"
ok "(that group exists)" test -d "$MNT/security-groups/p0-1"
like "$(get "$MNT/security-groups/p0-1/run/err")" "with these rules host hv1 would carry more than 1024 security groups" "run/err of the group says why"
ok "rules naming groups hv1 names already are fine" put "in tcp 22 sg:p1-1" "$MNT/security-groups/p0-1/rules"
ok "so are those of a group no host names" put "in tcp 22 sg:p-new" "$MNT/security-groups/one-more/rules"
mkdir "$I/late2"
ln -s ../../images/tiny "$I/late2/image"
put 64M "$I/late2/memory"
ln -s ../../../security-groups/one-more "$I/late2/security-groups/one-more"
put on "$I/late2/power"
is "$(get "$I/late2/run/state")" unschedulable "an instance in a group hv1 cannot add is not placed there"
is "$(api GET '/v1/hosts/hv1/desired?rev=0' "$T" | jq '.security_groups | length')" 1024 "hv1's desired state still names 1024 groups"

done_testing
