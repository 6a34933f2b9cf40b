# Storage (docs/storage.md) with a guest: a hypervisor host and a storage
# host; a volume with a known first block is hot-plugged into a running
# guest by a link in instances/NAME/volumes/, which reads it (by its serial
# vdc-vol-ID) and writes a marker; the storage agent is killed and
# restarted while the guest keeps reading; removing the link unplugs it and
# the marker is read back through volumes/V/data.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 400 ? VDC_WATCHDOG : 400 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
command -v xxd > /dev/null || skip_all "xxd is missing"

vdc_start
V=$MNT/volumes/v1
I=$MNT/instances/w1

ok "the test image is imported" vdc_import_tiny
if vdc_hva_host h 1 && vdc_sta_host s 2; then
	pass "hypervisor h and storage host s join"
else
	fail "hypervisor h and storage host s join"
	vdc_hva_diag h
	vdc_sta_diag s
	echo "Bail out! no hosts"
	exit 1
fi
ok "h reaches s's portal" vdc_hosts_connect h s
ok "... (a TCP connection from h to s's port 3260)" \
	vdc_host_exec h timeout 10 bash -c "exec 3<> /dev/tcp/$(vdc_host_addr s)/3260"

# ---- the volume and its first block ----

ok "mkdir volumes/v1" mkdir "$V"
ok "echo 64M > size" put 64M "$V/size"
ok "v1 is available" vdc_wait_vol_state v1 available 30 || vdc_sta_diag s
id=$(vdc_vol_id v1)
iqn=$(vdc_vol_iqn v1)
like "$id" '^[0-9]+$' "the volume's id ($id) is the suffix of its IQN"
secret=$(vdc_vol_secret v1)

pattern=vdc-pattern-$RANDOM$RANDOM
marker=vdc-marker-$RANDOM$RANDOM
printf '%s\n' "$pattern" | dd of="$VDC_TMP/block" bs=512 conv=sync status=none

ok "the first block of data is the pattern" timeout -k 2 30 \
	dd if="$VDC_TMP/block" of="$V/data" bs=512 count=1 conv=notrunc,fsync status=none

# ---- the guest ----

# It waits for the disk with the volume's serial, reads the first line of
# its first block, writes the marker at 4096, then reads the first block
# again every second (page cache dropped: from the target each time) and
# says so with a counter; it notices when the disk goes away.
ok "mkdir w1, link the image" vdc_instance w1
ok "user-data" putb "$I/user-data" << EOF
#!/bin/sh
(
	n=0
	seen=
	while :; do
		dev=
		for s in /sys/block/vd*/serial; do
			[ "\$(cat "\$s" 2> /dev/null)" = "vdc-vol-$id" ] && dev=/dev/\${s#/sys/block/} && dev=\${dev%/serial}
		done
		if [ -n "\$dev" ] && [ -z "\$seen" ]; then
			seen=\$dev
			echo "vdc-test: found \$dev"
			echo "vdc-test: read \$(dd if=\$dev bs=512 count=1 2> /dev/null | head -n 1)"
			printf '%s\n' "$marker" | dd of=\$dev bs=512 seek=8 conv=sync,fsync 2> /dev/null && sync &&
				echo "vdc-test: wrote"
		elif [ -n "\$dev" ]; then
			n=\$((n + 1))
			sz=\$(cat /sys/block/\${dev#/dev/}/size)
			[ "\$sz" = "\${lastsz:-}" ] || echo "vdc-test: size \$sz"
			lastsz=\$sz
			echo 1 > /proc/sys/vm/drop_caches
			if [ "\$(dd if=\$dev bs=512 count=1 2> /dev/null | head -n 1)" = "$pattern" ]; then
				echo "vdc-test: reread ok"
			else
				echo "vdc-test: reread failed"
			fi
		elif [ -n "\$seen" ]; then
			seen=
			echo "vdc-test: gone"
		fi
		sleep 1
	done
) > /dev/console 2>&1 &
EOF
ok "echo on > power" put on "$I/power"
ok "w1 runs" vdc_wait_state w1 running 90 || vdc_hva_diag h
ok "w1's guest is ready" vdc_wait 90 vdc_console_has w1 "vdc-guest: ready"
dom=$(vdc_domain_of h w1)

# ---- hot-plug ----

ok "ln -s ../../../volumes/v1 instances/w1/volumes/data" ln -s ../../../volumes/v1 "$I/volumes/data"
ok "the guest reads the pattern from the disk with serial vdc-vol-$id" \
	vdc_wait 90 vdc_console_has w1 "vdc-test: read $pattern" ||
	diag "console: $(get "$I/run/console" | grep 'vdc-test' | tail -n 3)" "$(get "$V/run/err")"
ok "... and writes the marker" vdc_wait 30 vdc_console_has w1 "vdc-test: wrote"
ok "the guest sees 64M (131072 sectors)" vdc_wait 30 vdc_console_has w1 "vdc-test: size 131072"
ok "echo 128M > size while attached" put 128M "$V/size"
ok "the guest sees the volume grow online (262144 sectors)" vdc_wait 60 vdc_console_has w1 "vdc-test: size 262144" ||
	{ diag "console: $(get "$I/run/console" | grep 'vdc-test' | tail -n 3)" "$(get "$V/run/err")"; vdc_hva_diag h; vdc_sta_diag s; }
ok "v1 is attached" vdc_wait_vol_state v1 attached 30 || vdc_hva_diag h
# A read in the moment between LUN 1's delete and its add again fails
# (docs/vdc-sta.md, "Growing"); on two loaded cores that moment is long
# enough to be hit now and then. One such failure is the documented
# limit; none is allowed from here on.
grow_fails=$(vdc_console_count w1 "vdc-test: reread failed")
ok "at most one read failed while LUN 1 was added again ($grow_fails)" test "$grow_fails" -le 1
xml=$(vdc_host_virsh h dumpxml "$dom" 2> /dev/null)
like "$xml" "<serial>vdc-vol-$id</serial>" "the domain has the disk with its serial"
like "$xml" "protocol=.iscsi." "... an iSCSI network disk"
if [ -n "$secret" ] && [ "$secret" != null ]; then
	unlike "$xml" "$secret" "the CHAP secret is not in the domain XML"
	# libvirt keeps a persistent secret's value in /etc/libvirt/secrets/UUID.base64.
	b64=$(printf %s "$secret" | base64)
	is "$(grep -rlF -e "$secret" -e "$b64" "$(vdc_host_dir h)/etc" "$(vdc_host_dir h)/hva" 2> /dev/null)" "" \
		"nor kept on disk by libvirt or the agent in h (files holding it)"
else
	fail "the CHAP secret is in the storage host's desired state" "got '$secret'"
fi
fails_with EBUSY "a second instance cannot link v1" eval \
	'mkdir "$MNT/instances/w2" && ln -s ../../../volumes/v1 "$MNT/instances/w2/volumes/data"'
rmdir "$MNT/instances/w2" 2> /dev/null
fails_with EBUSY "writing data of the attached volume is refused" \
	dd if=/dev/zero of="$V/data" bs=512 count=1 conv=notrunc status=none
ok "reading it is allowed" timeout -k 2 30 dd if="$V/data" of=/dev/null bs=512 count=1 status=none
ok "mkdir snapshots/s1 while attached" mkdir "$V/snapshots/s1"
ok "snapshot s1 becomes available" vdc_wait 60 vdc_is "$V/snapshots/s1/run/state" available
fails_with EBUSY "rollback while attached is refused" put "rollback s1" "$V/ctl"
fails_with EBUSY "rmdir of the attached volume is refused" rmdir "$V"

# ---- kill -9 vdc-sta while attached ----

reads() { vdc_console_count w1 "vdc-test: reread ok"; }
ok "the guest rereads the disk every second" vdc_wait 30 eval '[ "$(reads)" -ge 2 ]'
vdc_sta_kill9 s
pass "kill -9 vdc-sta"
n=$(reads)
ok "v1 turns unknown while its storage host is silent" vdc_wait_vol_state v1 unknown "$((VDC_HOST_TIMEOUT + 10))"
ok "the guest still reads the disk meanwhile" vdc_wait 20 eval '[ "$(reads)" -ge $((n + 3)) ]'
vdc_sta_restart s
ok "the restarted agent reports: host s is up" vdc_wait_host_state s up 30 || vdc_sta_diag s
ok "v1 is attached again" vdc_wait_vol_state v1 attached 30
n=$(reads)
ok "the guest goes on reading" vdc_wait 20 eval '[ "$(reads)" -ge $((n + 3)) ]'
is "$(vdc_console_count w1 "vdc-test: reread failed")" "$grow_fails" \
	"no read failed since: not through the snapshot, the kill -9 or the restart"
is "$(vdc_tgt_targets s | grep -cxF "$iqn")" 1 "one target for v1, not two"

# ---- hot-unplug ----

ok "rm instances/w1/volumes/data" rm "$I/volumes/data"
ok "v1 is detached: available" vdc_wait_vol_state v1 available 60 || vdc_hva_diag h
ok "the guest sees the disk go" vdc_wait 30 vdc_console_has w1 "vdc-test: gone"
# libvirt drops the disk from the live XML on qemu's DEVICE_DELETED, which
# may come a moment after the guest let the disk go.
disk_gone() { ! vdc_host_virsh h dumpxml "$dom" | grep -qF "vdc-vol-$id"; }
ok "the domain no longer has the disk" vdc_wait 10 disk_gone
is "$(get "$I/run/state")" running "w1 runs on"
is "$(timeout -k 2 30 dd if="$V/data" bs=512 skip=8 count=1 status=none | head -n 1)" "$marker" \
	"data at 4096 holds the marker the guest wrote"

# ---- clean up ----

ok "power off" put off "$I/power"
ok "w1 stops" vdc_wait_state w1 stopped 60
ok "rmdir w1" rmdir "$I"
rmdir "$V/snapshots/s1" 2> /dev/null
ok "rmdir v1" rmdir "$V"
ok "its target goes away" vdc_wait 30 eval '[ -z "$(vdc_tgt_targets s | grep -xF "$iqn")" ]'

vdc_hva_stop h
vdc_sta_stop s
vdc_stop
done_testing
