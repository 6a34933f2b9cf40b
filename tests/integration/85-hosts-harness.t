# The hosts harness (hosts.sh): two hosts, each with its own network and
# mount namespaces and its own libvirtd; the test guest boots in both under
# TCG through the BIOS; everything goes away again.

# At least 240 s; more when the caller asks for more (make valgrind).
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 240 ? VDC_WATCHDOG : 240 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"

vdc_boot_ok || skip_all "qemu has no TCG here"
IMG=$(vdc_tiny_image) || skip_all "cannot build the test guest image"

ok "host a comes up" vdc_host_up a 1 || exit 1
ok "host b comes up" vdc_host_up b 2 || exit 1

# ---- each host has its own libvirtd ----

pa=$(vdc_host_libvirtd_pid a)
pb=$(vdc_host_libvirtd_pid b)
like "$pa" '^[0-9]+$' "host a's libvirtd wrote its pid file in the host's /run"
isnt "$pa" "$pb" "the hosts run different libvirtds"
ok "host a's libvirtd runs" kill -0 "$pa"
ok "host b's libvirtd runs" kill -0 "$pb"
is "$(readlink /proc/"$pa"/ns/net)" "$(cat "$(vdc_host_dir a)/netid")" \
	"host a's libvirtd is in host a's network namespace"
isnt "$(readlink /proc/"$pa"/ns/mnt)" "$(readlink /proc/"$pb"/ns/mnt)" \
	"the libvirtds are in different mount namespaces"
isnt "$(readlink /proc/"$pa"/ns/mnt)" "$(readlink /proc/$$/ns/mnt)" \
	"neither is in the root mount namespace"
is "$(vdc_host_virsh a uri)" "qemu:///system" "virsh reaches qemu:///system in host a"
is "$(vdc_host_virsh a hostname)" "vdct-a" "host a is called vdct-a"
is "$(vdc_host_virsh b hostname)" "vdct-b" "host b is called vdct-b"
isnt "$(vdc_host_virsh a sysinfo 2> /dev/null | md5sum)$(vdc_host_exec a cat /etc/libvirt/libvirtd.conf | grep ^host_uuid)" \
	"$(vdc_host_virsh b sysinfo 2> /dev/null | md5sum)$(vdc_host_exec b cat /etc/libvirt/libvirtd.conf | grep ^host_uuid)" \
	"each host has a host UUID of its own"
ok "host a's libvirt socket is in its own /run" test -S "$(vdc_host_dir a)/run/libvirt/libvirt-sock"
is "$(vdc_host_exec a readlink -f /var/lib/vdc-hva)" "/var/lib/vdc-hva" "the agent's state dir exists in the host"
vdc_host_exec a touch /var/lib/vdc-hva/mark
ok "/var/lib/vdc-hva is private to host a" test -f "$(vdc_host_dir a)/hva/mark"
nok "... and host b does not see host a's" vdc_host_exec b test -f /var/lib/vdc-hva/mark
nok "... nor does the root namespace" test -f /var/lib/vdc-hva/mark

# ---- network ----

is "$(vdc_host_exec a ip -o -4 addr show dev eth0 | awk '{print $4}')" "$(vdc_host_addr a)/32" \
	"host a has its address on eth0"
# A connection to a closed port on the server address is refused by the
# root namespace's kernel: the address is reached. Host b has no route to
# host a at all.
dial() {
	vdc_host_exec "$1" timeout 5 bash -c 'exec 3<> "/dev/tcp/$1/$2"' dial "$2" 9 2>&1
}
like "$(dial a "$VDC_SERVER_ADDR")" "Connection refused" "host a reaches the server address"
like "$(dial b "$VDC_SERVER_ADDR")" "Connection refused" "host b reaches the server address"
like "$(dial b "$(vdc_host_addr a)")" "unreachable" "host b has no route to host a"
is "$(vdc_host_exec a ip -4 route show | tr -s ' ' | sed 's/ $//')" "$VDC_SERVER_ADDR dev eth0 scope link" \
	"host a's only route is to the server address"

# ---- guests ----

# domain_xml NAME DISK SEED CONSOLE: TCG, BIOS boot from the disk, serial
# console to a file.
domain_xml() {
	cat << EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>192</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$3'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <serial type='file'>
      <source path='$4'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# prepare HOST GUESTNAME: an overlay of the image, a seed and the XML in the
# host's tmp folder.
prepare() {
	local d
	d=$(vdc_host_dir "$1")/tmp
	qemu-img create -q -f qcow2 -b "$IMG" -F raw "$d/$2.qcow2"
	printf '#!/bin/sh\necho "probe: user-data on $(hostname)"\n' > "$d/$2.user-data"
	"$VDC_SRC_ROOT/tests/image/make-seed.sh" "$d/$2.seed" "$2" "$d/$2.user-data"
	domain_xml probe "$d/$2.qcow2" "$d/$2.seed" "$d/$2.console" > "$d/$2.xml"
}
console() { tr -d '\r' < "$(vdc_host_dir "$1")/tmp/$2.console" 2> /dev/null; }
console_has() { console "$1" "$2" | grep -qxF "$3"; }

ok "an overlay and seed for host a" prepare a guest-a
ok "an overlay and seed for host b" prepare b guest-b
# The same domain name in both hosts: names, pid files, sockets, logs and
# (without cgroups) nothing else they could share must not clash.
ok "domain probe is defined in host a" vdc_host_virsh a define "$(vdc_host_dir a)/tmp/guest-a.xml"
ok "domain probe is defined in host b too" vdc_host_virsh b define "$(vdc_host_dir b)/tmp/guest-b.xml"
vdc_host_virsh a define /dev/stdin <<< "$(domain_xml only-a /nonexistent /nonexistent /dev/null)" > /dev/null
is "$(vdc_host_virsh a list --all --name | sort | tr '\n' ' ')" "only-a probe " "host a lists its two domains"
is "$(vdc_host_virsh b list --all --name | tr '\n' ' ')" "probe " "host b does not see host a's only-a"

t0=$(date +%s%N)
ok "probe starts in host a" vdc_host_virsh a start probe
ok "probe starts in host b" vdc_host_virsh b start probe
if vdc_wait 90 console_has a guest-a "vdc-guest: ready"; then
	pass "host a's guest is ready after $((($(date +%s%N) - t0) / 1000000)) ms (TCG, BIOS boot)"
else
	fail "host a's guest is ready" "$(console a guest-a | tail -n 8)"
fi
if vdc_wait 60 console_has b guest-b "vdc-guest: ready"; then
	pass "host b's guest is ready after $((($(date +%s%N) - t0) / 1000000)) ms"
else
	fail "host b's guest is ready" "$(console b guest-b | tail -n 8)"
fi
ok "host a's console shows the hostname from its seed" console_has a guest-a "vdc-guest: hostname guest-a"
ok "host b's console shows the hostname from its seed" console_has b guest-b "vdc-guest: hostname guest-b"
ok "... and the user-data ran" console_has a guest-a "probe: user-data on guest-a"

qa=$(cat "$(vdc_host_dir a)/run/libvirt/qemu/probe.pid" 2> /dev/null)
qb=$(cat "$(vdc_host_dir b)/run/libvirt/qemu/probe.pid" 2> /dev/null)
like "$qa" '^[0-9]+$' "host a's qemu pid file is in its /run"
isnt "$qa" "$qb" "two qemu processes"
is "$(readlink /proc/"$qa"/ns/net)" "$(cat "$(vdc_host_dir a)/netid")" "host a's qemu runs in host a's network namespace"
like "$(tr '\0' ' ' < /proc/"$qa"/cmdline)" '-accel tcg|accel=tcg' "qemu runs with TCG"
is "$(vdc_host_virsh a domstate probe)" "running" "host a's libvirt says running"

ok "probe is destroyed in host a" vdc_host_virsh a destroy probe
ok "host a's qemu is gone" vdc_wait 10 eval '! kill -0 "$qa" 2> /dev/null'
is "$(vdc_host_virsh b domstate probe)" "running" "host b's probe still runs"

# ---- teardown ----

# The four namespaces are held open here until they are scanned: freed,
# their inode numbers would go to the next namespace another test makes.
ids= held=0
for h in a b; do
	_vdc_host_pin $h "pin_${h}net" "pin_${h}mnt"
	for k in net mnt; do
		v=pin_$h$k
		[ -n "${!v}" ] || continue
		ids="$ids $(cat "$(vdc_host_dir $h)/${k}id")" held=$((held + 1))
	done
done
is "$held" 4 "the hosts' four namespaces are held for the scan below"
# Host b goes down with its guest running: down kills qemu too.
ok "host a goes down" vdc_host_down a
ok "host b goes down with a guest running" vdc_host_down b
left=
for p in /proc/[0-9]*; do
	for id in $ids; do
		case " $(readlink "$p/ns/net" 2> /dev/null) $(readlink "$p/ns/mnt" 2> /dev/null) " in
		*" $id "*) left="$left ${p#/proc/}($(tr '\0' ' ' < "$p/cmdline" 2> /dev/null | cut -c1-60))" ;;
		esac
	done
done
for v in pin_anet pin_amnt pin_bnet pin_bmnt; do _vdc_ns_unpin $v; done
is "$left" "" "no process is left in the hosts' namespaces"
# Orphaned by its libvirtd, it is reaped by init a moment later.
gone() { st=$(_vdc_proc_state "$1"); [ -z "$st" ] || [ "$st" = Z ]; }
ok "host b's qemu is gone" vdc_wait 5 gone "$qb"
is "$(vdc_hosts_leftovers)" "" "no netns, link, route, folder or mount is left"
vdc_hosts_cleanup
is "$(ip -o addr show dev lo | grep -c "$VDC_SERVER_ADDR/")" "0" "the server address is off lo"

done_testing
