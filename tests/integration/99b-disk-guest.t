# An instance's root disk on a storage host, with a real guest
# (docs/storage.md, "Instance disks"): two hypervisors a and b and a
# storage host s. The guest boots from its disk (a LUN on s, serial
# vdc-disk-ID), keeps a boot counter and a marker on it, and prints what
# it finds there at every boot. The disk is the same after: a power off
# and on, bytes written through instances/NAME/disk while off, a cold
# migration (ctl migrate b), an evacuation of its hypervisor (the live
# move it tries fails, since these hosts' libvirtd have no TLS listener:
# it starts on the other one), and the death of that hypervisor followed by rmdir
# hosts/NAME (it is placed anew).

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 600 ? VDC_WATCHDOG : 600 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"

vdc_start
I=$MNT/instances/w1

ok "the test image is imported" vdc_import_tiny
if vdc_hva_host a 1 && vdc_hva_host b 3 && vdc_sta_host s 2; then
	pass "hypervisors a and b and storage host s join"
else
	fail "hypervisors a and b and storage host s join"
	vdc_hva_diag a
	vdc_hva_diag b
	vdc_sta_diag s
	echo "Bail out! no hosts"
	exit 1
fi
ok "a reaches s's portal" vdc_hosts_connect a s
ok "b reaches s's portal" vdc_hosts_connect b s
ok "b stays out of the way until a goes" put off "$MNT/hosts/b/schedulable"

ok "mkdir w1, link the image" vdc_instance w1
ok "its disk is placed on s" vdc_wait 20 file_is "$I/run/disk-host" s
img_m=$(get "$I/disk-size" | tr -d M)
like "$img_m" '^[0-9]+$' "disk-size is the image's size (${img_m}M)"
ok "grow the disk by 16M (room for the test's markers)" put "$((img_m + 16))M" "$I/disk-size"
id=$(vdc_sta_desired s | jq -r '.volumes[] | select(.name == "w1") | .id')
like "$id" '^[0-9]+$' "the disk's id is the instance's ($id)"

# Blocks of 4 KiB past the image: the counter, the guest's marker, the tree's marker.
b_count=$(((img_m + 1) * 256))
b_guest=$((b_count + 256))
b_tree=$((b_guest + 256))
# Two blocks 4 MiB apart that the guest keeps writing a counter to, the
# first one first (the point-in-time read below).
b_pa=$((b_tree + 256))
b_pb=$((b_pa + 1024))
gmark=vdc-guest-mark-$RANDOM$RANDOM
tmark=vdc-tree-mark-$RANDOM$RANDOM
ok "user-data" putb "$I/user-data" << EOF
#!/bin/sh
dev=
for s in /sys/block/vd*/serial; do
	[ "\$(cat "\$s" 2> /dev/null)" = "vdc-disk-$id" ] && dev=\${s%/serial} && dev=/dev/\${dev#/sys/block/}
done
[ -n "\$dev" ] || { echo "vdc-test: no disk vdc-disk-$id"; exit 1; }
rd() { dd if=\$dev bs=4096 skip=\$1 count=1 2> /dev/null | tr -dc 'a-z0-9-'; }
n=\$(rd $b_count)
n=\$((\${n:-0} + 1))
printf '%s' "\$n" | dd of=\$dev bs=4096 seek=$b_count conv=sync,fsync 2> /dev/null
echo "vdc-test: boot \$n guest [\$(rd $b_guest)] tree [\$(rd $b_tree)] on \$dev"
printf '%s' "$gmark" | dd of=\$dev bs=4096 seek=$b_guest conv=sync,fsync 2> /dev/null
sync
(n=0; while :; do
	n=\$((n + 1))
	printf '%s' "\$n" | dd of=\$dev bs=4096 seek=$b_pa conv=sync,fsync 2> /dev/null
	printf '%s' "\$n" | dd of=\$dev bs=4096 seek=$b_pb conv=sync,fsync 2> /dev/null
	sleep 0.3
done) &
EOF

booted() { get "$I/run/console" | tr -d '\r' | grep -qF "vdc-test: boot $1 guest [$2] tree [$3] on /dev/vd"; }

ok "power on" put on "$I/power"
ok "w1 runs on a" vdc_wait_state w1 running 120 || vdc_hva_diag a
is "$(get "$I/run/host")" a "run/host is a"
ok "first boot: the disk holds neither marker" vdc_wait 90 booted 1 "" ""
ok "... from its disk on s (no local disk on a)" \
	vdc_host_exec a test ! -e "$(vdc_host_dir a)/hva/instances/$(vdc_domain_of a w1)/disk.qcow2"

ok "power off" put off "$I/power"
ok "w1 stops" vdc_wait_state w1 stopped 90
is "$(timeout 30 dd if="$I/disk" bs=4096 skip="$b_guest" count=1 status=none | tr -d '\0')" "$gmark" \
	"the guest's marker reads back through instances/w1/disk"
printf '%s' "$tmark" | dd of="$VDC_TMP/tmark" bs=4096 conv=sync status=none
ok "write the tree's marker into disk while off" timeout -k 2 30 \
	dd if="$VDC_TMP/tmark" of="$I/disk" bs=4096 seek="$b_tree" conv=notrunc,fsync status=none

ok "power on again" put on "$I/power"
ok "w1 runs" vdc_wait_state w1 running 120
ok "second boot: both markers are on the disk" vdc_wait 90 booted 2 "$gmark" "$tmark"

# A read of the running guest's disk sees one moment for the whole open
# (docs/storage.md, "Through the tree"): the counter at b_pa, then, 3 s
# later through the same open, the one at b_pb, which the guest writes
# right after b_pa, are one apart at most (a live read would be ~10 apart).
pit_read() {
	python3 - "$I/disk" "$b_pa" "$b_pb" << 'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
a = os.pread(fd, 4096, int(sys.argv[2]) * 4096).rstrip(b"\0").decode() or "0"
time.sleep(3)
b = os.pread(fd, 4096, int(sys.argv[3]) * 4096).rstrip(b"\0").decode() or "0"
os.close(fd)
print(a, b)
EOF
}
counter_runs() { [ "$(pit_read | awk '{print $1}')" -gt 2 ] 2> /dev/null; }
ok "the guest's counter runs" vdc_wait 60 counter_runs
read -r pa pb < <(pit_read)
ok "one open reads one moment of the running disk ($pa then, 3 s later, $pb)" \
	test "$pa" -gt 2 -a "$((pa - pb))" -ge 0 -a "$((pa - pb))" -le 1
ok "the read's snapshot is gone from s once closed" \
	vdc_wait 30 eval '[ "$(vdc_tgt_targets s | grep -c ":snap-")" = 0 ]'

ok "b takes instances" put on "$MNT/hosts/b/schedulable"
# The hosts' libvirtd have no TLS listener here (99d-live-migrate.t has
# them): a live move is tried and fails, and w1 runs on as it was.
ok "clear run/err" put clear "$I/ctl"
ok "migrate b of the running w1 tries a live move" put "migrate b" "$I/ctl"
ok "... which fails with the reason in run/err" vdc_wait 120 eval "[ -n \"\$(get '$I/run/err')\" ]"
like "$(get "$I/run/err")" "16514|[Cc]onnection|TLS|refused" "run/err: $(get "$I/run/err")"
ok "the event says the live move failed" vdc_events_has "w1.*live migration to host b failed"
ok "w1 runs on a still" vdc_wait_state w1 running 60
is "$(get "$I/run/host")" a "run/host is a"
ok "power off" put off "$I/power"
ok "w1 stops" vdc_wait_state w1 stopped 90
fails_with EINVAL "migrate to the host it is on: EINVAL" put "migrate a" "$I/ctl"
fails_with ENOENT "migrate to no such host: ENOENT" put "migrate nosuch" "$I/ctl"
fails_with EINVAL "migrate to a storage host: EINVAL" put "migrate s" "$I/ctl"
like "$(get "$I/run/err")" "is a storage host" "... run/err says why"
ok "migrate b (cold)" put "migrate b" "$I/ctl"
is "$(get "$I/run/host")" b "run/host is b at once"
ok "a lets its domain go" vdc_wait 60 eval '[ "$(vdc_domains a | wc -l)" = 0 ]'
ok "power on" put on "$I/power"
ok "w1 runs on b" vdc_wait_state w1 running 120 || vdc_hva_diag b
ok "third boot, on b after a cold migration: the same disk" vdc_wait 90 booted 3 "$gmark" "$tmark"

ok "evacuate b" put evacuate "$MNT/hosts/b/ctl"
ok "w1 runs on a" vdc_wait 180 file_is "$I/run/host" a
ok "... running" vdc_wait_state w1 running 120 || vdc_hva_diag a
ok "fourth boot, on a after b's evacuation: the same disk" vdc_wait 90 booted 4 "$gmark" "$tmark"
is "$(vdc_domains b | wc -l)" 0 "b has no domain left"

# a dies; it is removed; w1 is placed anew (on b) with its disk.
ok "b takes instances again" put on "$MNT/hosts/b/schedulable"
ok "a dies (kill -9 of its agent, libvirtd and qemu)" vdc_host_down a
ok "a turns unknown" vdc_wait_host_state a unknown 60
ok "rmdir hosts/a" rmdir "$MNT/hosts/a"
ok "w1 runs on b" vdc_wait 180 file_is "$I/run/host" b
ok "... running" vdc_wait_state w1 running 120 || vdc_hva_diag b
ok "fifth boot, on b after a died: the same disk" vdc_wait 90 booted 5 "$gmark" "$tmark"

ok "power off" put off "$I/power"
ok "w1 stops" vdc_wait_state w1 stopped 90
ok "rmdir w1" rmdir "$I"
ok "s lets the disk go" vdc_wait 30 file_is "$MNT/hosts/s/run/disk-used" 0M

done_testing
