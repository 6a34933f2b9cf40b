# Issue 3, the second driver: vdc-hva --driver lxc runs containers through
# libvirt's lxc driver. A root filesystem tarball imported with cp, mkdir +
# link + power on starts a container on a copy-on-write root; run/state and
# run/console tell the truth (hostname from the NoCloud seed folder);
# reboot, reset, power off; kill -9 of the agent and a restart adopt the
# running container; rmdir removes the domain, the mount and the folder.
# Issue 11: a container is not root on the host: it runs in a user
# namespace onto a block of host ids of its own (from 0x70000000), its
# root's files are the block's (a setuid file of the image is setuid to
# the block), and no other user of the host can reach its root or the
# extracted image.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
VDC_HVA_DRIVER=lxc
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"

command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"

# as_nobody CMD...: CMD in host a as user and group 65534, no other groups.
as_nobody() {
	vdc_host_exec a timeout -k 2 "$VDC_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# The test container root with a setuid-root file, /bin/suid (a copy of busybox, 4755, 0:0).
suid_rootfs() {
	local tar r=$VDC_TMP/suid-root
	tar=$(vdc_tiny_rootfs) || return 1
	mkdir "$r" && tar -C "$r" -xf "$tar" && cp "$r/bin/busybox" "$r/bin/suid" && chmod 4755 "$r/bin/suid" &&
		tar -C "$r" --numeric-owner --owner=0 --group=0 --format=ustar -cf "$VDC_TMP/suid-rootfs.tar" . &&
		mkdir "$MNT/images/rootfs" && timeout -k 2 120 cp "$VDC_TMP/suid-rootfs.tar" "$MNT/images/rootfs/data"
}

vdc_start
I=$MNT/instances/web1

ok "the test container root (a tarball with a setuid-root file) is imported into images/rootfs with cp" suid_rootfs
if ! vdc_hva_host a 1; then
	fail "host a comes up with an lxc agent and joins"
	vdc_hva_diag a
	echo "Bail out! no host"
	exit 1
fi
pass "host a comes up with an lxc agent and joins"
like "$(get "$MNT/hosts/a/run/driver")" '^lxc\b' "hosts/a/run/driver names lxc"

# ---- power on ----

ok "mkdir, link the rootfs image" vdc_instance web1 64M 1 rootfs
ok "user-data is written" putb "$I/user-data" <<'EOF_UD'
#!/bin/sh
echo "web1-test: user-data ran on $(hostname)"
echo "web1-test: id -u $(id -u)"
EOF_UD
t0=$(date +%s%N)
ok "echo on > power" put on "$I/power"
if vdc_wait_state web1 running 60; then
	pass "run/state reaches running in $((($(date +%s%N) - t0) / 1000000)) ms"
else
	fail "run/state reaches running"
	vdc_hva_diag a
fi
is "$(get "$I/run/host")" a "run/host is a"
ok "run/console shows the hostname from the seed" vdc_wait 30 vdc_console_has web1 "vdc-guest: hostname web1"
ok "run/console shows the container is ready" vdc_wait 30 vdc_console_has web1 "vdc-guest: ready"
ok "... and that the user-data ran" vdc_console_has web1 "web1-test: user-data ran on web1"
is "$(get "$I/run/err")" "" "run/err is empty"

dom=$(vdc_domain_of a web1)
like "$dom" '^vdc-[0-9]+$' "libvirt's lxc driver in host a has the domain, named vdc-ID"
is "$(vdc_host_virsh a domstate "$dom")" running "libvirt says it runs"
is "$(vdc_domains a | wc -l)" 1 "one domain, no second copy"
init=$(vdc_lxc_init_pid a "$dom")
like "$init" '^[0-9]+$' "the container has an init process ($init)"
like "$(tr '\0' ' ' < "/proc/$init/cmdline" 2> /dev/null)" '/sbin/init' "... which is the image's /sbin/init"
hva=$(vdc_host_dir a)/hva
root=/var/lib/vdc-hva/instances/$dom/rootfs
seed=var/lib/cloud/seed/nocloud
ok "the container root is an overlayfs mount in the host" \
	eval 'vdc_host_exec a awk -v m="$root" '"'"'$2 == m && $3 == "overlay" {f = 1} END {exit !f}'"'"' /proc/self/mounts'
ok "... whose lower layer is the image, mapped by an idmapped mount detached once the overlay held it" \
	eval 'vdc_host_exec a grep -q "lowerdir=/var/lib/vdc-hva/instances/$dom/lower," /proc/self/mounts &&
		! vdc_host_exec a grep -q " /var/lib/vdc-hva/instances/$dom/lower " /proc/self/mounts'
ok "... the image extracted once into the cache" eval 'ls -d "$hva"/images/*.rootfs > /dev/null'

# ---- the container is not root on the host ----

base=$(vdc_host_exec a cat "/var/lib/vdc-hva/instances/$dom/idmap" 2> /dev/null)
like "$base" '^[0-9]+$' "the instance folder records the container's block of host ids ($base)"
ok "... a block of 65536 from 0x70000000 on" eval '[ "$base" -ge 1879048192 ] && [ $(((base - 1879048192) % 65536)) = 0 ]'
ok "the domain maps the container's ids 0..65535 onto the block" \
	eval 'vdc_host_virsh a dumpxml "$dom" | grep -q "<uid start=.0. target=.$base. count=.65536./>" &&
		vdc_host_virsh a dumpxml "$dom" | grep -q "<gid start=.0. target=.$base. count=.65536./>"'
is "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$init/status")" "$base $base $base $base" \
	"the container's init runs as host uid $base, not root (/proc/PID/status)"
is "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$init/status")" "$base $base $base $base" "... and host gid $base"
ok "inside, the container is root: id -u says 0" vdc_console_has web1 "web1-test: id -u 0"
is "$(vdc_host_exec a stat -c %u:%g "$root/bin/busybox")" "$base:$base" "the container root's files are the block's on the host"
is "$(vdc_host_exec a stat -c %u:%g "$root/")" "$base:$base" "... its top folder too"
is "$(vdc_host_exec a stat -c %u:%g "$root/$seed/meta-data")" "$base:$base" "... and the seed the agent wrote"
is "$(vdc_host_exec a stat -c %u:%a "$root/bin/suid")" "$base:4755" \
	"the image's setuid-root file is setuid to the block's first id on the host, not to root"
is "$(stat -c %a "$hva/instances/$dom")" 710 "the instance folder is 0710"
is "$(stat -c %u:%g "$hva/instances/$dom")" "0:$base" "... root's, group the block's first id (the container's root passes through it)"
ok "user 65534 reaches the instance folders" as_nobody test -d "/var/lib/vdc-hva/instances/$dom"
ok "... but cannot list the container root" eval '! as_nobody ls "$root" > /dev/null 2>&1'
ok "... nor reach a file in it" eval '! as_nobody test -e "$root/bin/busybox"'
ok "... nor list its upper layer" eval '! as_nobody ls "/var/lib/vdc-hva/instances/$dom/upper" > /dev/null 2>&1'
ok "user 65534 lists the image cache" eval 'as_nobody ls /var/lib/vdc-hva/images > /dev/null'
sha=$(vdc_host_exec a ls /var/lib/vdc-hva/images | grep -m1 '\.rootfs$')
is "$(stat -c %u:%a "$hva/images/$sha")" 0:700 "the extracted image is root's alone (0700)"
ok "... user 65534 cannot list it" eval '! as_nobody ls "/var/lib/vdc-hva/images/$sha" > /dev/null 2>&1'
ok "... nor reach its setuid-root file" eval '! as_nobody test -e "/var/lib/vdc-hva/images/$sha/bin/suid"'
ok "the NoCloud seed folder is in the instance's upper layer" \
	test -f "$hva/instances/$dom/upper/var/lib/cloud/seed/nocloud/meta-data"
ok "... and the extracted image is untouched by it" \
	eval '! ls "$hva"/images/*.rootfs/var/lib/cloud/seed/nocloud/meta-data 2> /dev/null | grep -q .'

# ---- a disk image is refused with a sentence ----

ok "a disk image is imported as images/disk" eval 'mkdir "$MNT/images/disk" &&
	head -c 1048576 /dev/zero | tr "\0" "\1" > "$MNT/images/disk/data"'
ok "an instance with the disk image" vdc_instance bad 64M 1 disk
put on "$MNT/instances/bad/power"
ok "it turns error" vdc_wait_state bad error 60
like "$(get "$MNT/instances/bad/run/err")" 'is a disk image, not a root filesystem tarball' \
	"run/err says the lxc driver needs a root filesystem tarball"
put off "$MNT/instances/bad/power"
ok "rmdir of the refused instance" vdc_wait 20 rmdir "$MNT/instances/bad"
ok "rmdir images/disk" vdc_wait 10 rmdir "$MNT/images/disk"

# ---- reboot and reset ----

ready=$(vdc_console_count web1 "vdc-guest: ready")
ok "echo reboot > ctl" put reboot "$I/ctl"
ok "the container boots again" vdc_wait 60 eval '[ "$(vdc_console_count web1 "vdc-guest: ready")" -gt "$ready" ]'
ok "... after its init was asked to reboot" vdc_console_has web1 "vdc-guest: rebooting"
ok "run/state is running after the reboot" vdc_wait_state web1 running 30
init2=$(vdc_lxc_init_pid a "$dom")
isnt "$init2" "$init" "a reboot starts a new init ($init2)"
sleep "$((VDC_HVA_SHUTDOWN_TIMEOUT + 3))"
is "$(vdc_console_count web1 "vdc-guest: ready")" "$((ready + 1))" \
	"... once: no reset follows after the shutdown timeout"

ready=$(vdc_console_count web1 "vdc-guest: ready")
downs=$(vdc_console_count web1 "vdc-guest: shutting down")
init=$(vdc_lxc_init_pid a "$dom")
ok "echo reset > ctl" put reset "$I/ctl"
ok "the container starts again after the reset" vdc_wait 60 eval '[ "$(vdc_console_count web1 "vdc-guest: ready")" -gt "$ready" ]'
is "$(vdc_console_count web1 "vdc-guest: shutting down")" "$downs" "a reset does not ask init to shut down"
ok "run/state is running after the reset" vdc_wait_state web1 running 30
isnt "$(vdc_lxc_init_pid a "$dom")" "$init" "a reset is a new init"
fails_with EBUSY "rmdir of a running instance is refused" rmdir "$I"

# ---- the agent crashes: the container runs on and is adopted ----

init=$(vdc_lxc_init_pid a "$dom")
vdc_hva_kill9 a
ok "kill -9 vdc-hva: the container runs on" test -d "/proc/$init"
vdc_hva_restart a
ok "the agent is back: hosts/a/run/state is up" vdc_wait_host_state a up 30
sleep 3
is "$(vdc_lxc_init_pid a "$dom")" "$init" "the restarted agent adopts the same container (same init)"
is "$(get "$I/run/state")" running "run/state stays running"
is "$(vdc_domains a | wc -l)" 1 "still one domain"
is "$(vdc_host_exec a awk -v m="$root" '$2 == m' /proc/self/mounts | wc -l)" 1 "the root is not mounted a second time"
is "$(vdc_host_exec a cat "/var/lib/vdc-hva/instances/$dom/idmap")" "$base" "the restarted agent finds the container's block again"

# ---- power off ----

downs=$(vdc_console_count web1 "vdc-guest: shutting down")
ok "echo off > power" put off "$I/power"
ok "run/state reaches stopped" vdc_wait_state web1 stopped 60
ok "init shut down gracefully (the console, followed again after the restart, says so)" \
	vdc_wait 10 eval '[ "$(vdc_console_count web1 "vdc-guest: shutting down")" -gt "$downs" ]'
is "$(vdc_host_virsh a domstate "$dom")" "shut off" "libvirt says shut off"
ok "the domain is kept while stopped" vdc_host_virsh a dominfo "$dom"
ok "... and its root, with what the container wrote" \
	test -f "$hva/instances/$dom/upper/var/lib/cloud/seed/nocloud/meta-data"

# An instance an agent of before the mappings left: no block recorded,
# its folder 0711, its upper layer written by a container that was root
# on the host (a setuid-root file, a file of uid 1000). The next start
# gives it a block and moves the upper layer into it.
u=$hva/instances/$dom/upper
ok "an instance as an agent of before the mappings left it" \
	eval 'rm "$hva/instances/$dom/idmap" && chmod 0711 "$hva/instances/$dom" && chown -hR 0:0 "$u" &&
		cp "$u/$seed/meta-data" "$u/old-suid" && chmod 4755 "$u/old-suid" &&
		touch "$u/old-1000" && chown 1000:1000 "$u/old-1000"'
ready=$(vdc_console_count web1 "vdc-guest: ready")
ok "echo on > power again" put on "$I/power"
ok "it runs again" vdc_wait_state web1 running 60
is "$(vdc_host_exec a cat "/var/lib/vdc-hva/instances/$dom/idmap")" "$base" "it has a block again (the lowest free)"
is "$(stat -c %u:%g:%a "$u/old-suid")" "$base:$base:4755" "its root's setuid file is the block's, still setuid"
is "$(stat -c %u:%g "$u/old-1000")" "$((base + 1000)):$((base + 1000))" "uid 1000's file is the block's uid 1000"
is "$(stat -c %u:%g:%a "$hva/instances/$dom")" "0:$base:710" "its folder is closed to other users again"
ok "... and its init is ready again" vdc_wait 30 eval '[ "$(vdc_console_count web1 "vdc-guest: ready")" -gt "$ready" ]'
init=$(vdc_lxc_init_pid a "$dom")
is "$(awk '/^Uid:/ {print $2}' "/proc/$init/status")" "$base" "... started by the restarted agent, in the same block"
ok "power off once more" put off "$I/power"
ok "stopped" vdc_wait_state web1 stopped 60

# ---- a container on a virtual network (docs/networks.md) ----

C=$MNT/instances/net1c
ok "a network with a cidr" sh -c "mkdir '$MNT/networks/net1' && echo 192.0.2.0/24 > '$MNT/networks/net1/cidr'"
ok "a container with a nic on it" eval 'vdc_instance net1c 64M 1 rootfs && mkdir "$C/nics/eth0" &&
	ln -s ../../../../networks/net1 "$C/nics/eth0/network"'
cip=$(get "$C/nics/eth0/run/ip")
is "$cip" 192.0.2.2 "the nic has the network's first address"
ok "user-data asks for a lease" putb "$C/user-data" <<'EOF_UD'
#!/bin/sh
ip link set eth0 up
echo "lxc-test: $(udhcpc -i eth0 -n -q -t 10 -s /bin/true 2>&1 | grep -o 'lease of [0-9.]* obtained')"
EOF_UD
ok "power on" put on "$C/power"
ok "the container runs" vdc_wait_state net1c running 60 || vdc_hva_diag a
dom2=$(vdc_domain_of a net1c)
base2=$(vdc_host_exec a cat "/var/lib/vdc-hva/instances/$dom2/idmap" 2> /dev/null)
is "$base2" "$((base + 65536))" "a second container gets the next block: neither reaches the other's files"
is "$(awk '/^Uid:/ {print $2}' "/proc/$(vdc_lxc_init_pid a "$dom2")/status")" "$base2" "... and runs in it"
vni=$(get "$MNT/networks/net1/run/vni")
tap=vdcn$((16#$(get "$C/nics/eth0/run/mac" | tr -d : | cut -c7-)))
ok "its veth $tap is a port of the network's bridge vdcb$vni" \
	sh -c "ip -n $(vdc_host_netns a) link show $tap | grep -q 'master vdcb$vni'"
ok "the DHCP server gave the container its address" vdc_wait 30 vdc_console_has net1c "lxc-test: lease of $cip obtained"
ok "power off" put off "$C/power"
ok "stopped" vdc_wait_state net1c stopped 60
ok "rmdir the container and the network" eval 'rmdir "$C" && vdc_wait 10 rmdir "$MNT/networks/net1"'
ok "the network's bridge goes with its last member" \
	vdc_wait 30 eval '! ip -n "$(vdc_host_netns a)" link show "vdcb$vni" > /dev/null 2>&1'

# ---- rmdir ----

ok "the image is mounted on the instance's lower/, as a crash between two steps of a mount leaves it" \
	vdc_host_exec a mount --bind "/var/lib/vdc-hva/images/$sha" "/var/lib/vdc-hva/instances/$dom/lower"
ok "rmdir of the stopped instance" rmdir "$I"
ok "its domain goes away" vdc_wait 30 eval '[ -z "$(vdc_domains a)" ]'
ok "its root is unmounted" vdc_wait 10 eval '! vdc_host_exec a grep -q " $root " /proc/self/mounts'
ok "its folder goes away" vdc_wait 10 eval '[ ! -e "$hva/instances/$dom" ]'
ok "hosts/a/instances/ is empty" vdc_wait 10 eval '[ -z "$(ls "$MNT/hosts/a/instances")" ]'
ok "the extracted image stays in the cache for the next instance" eval 'ls -d "$hva"/images/*.rootfs > /dev/null'
ok "... whole: the mount on lower/ was undone before the folder was removed, not emptied through" \
	test -x "$hva/images/$sha/bin/busybox"
ok "... and no mount is left below the instance folders" \
	eval '! vdc_host_exec a grep -q " /var/lib/vdc-hva/instances/" /proc/self/mounts'

vdc_hva_stop a
vdc_stop
done_testing
