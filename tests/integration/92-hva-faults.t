# Issue 3, faults: kill -9 vdc-hva while guests run and restart it (guests
# untouched and adopted); kill -9 vdcfs and restart it (same tree, agents
# reconnect); stop an agent (its instances turn unknown, then come back).
# Through all of it each guest is one qemu process that never restarts.

# At least 400 s; more when the caller asks for more (make valgrind).
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 400 ? VDC_WATCHDOG : 400 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"

vdc_start
ok "the test image is imported" vdc_import_tiny
if vdc_hva_host a 1; then
	pass "host a joins"
else
	fail "host a joins"
	vdc_hva_diag a
	echo "Bail out! no host"
	exit 1
fi

for n in f1 f2; do
	vdc_instance "$n" && put on "$MNT/instances/$n/power"
done
ok "f1 runs" vdc_wait_state f1 running 90
ok "f2 runs" vdc_wait_state f2 running 60
ok "f1's guest is ready" vdc_wait 60 vdc_console_has f1 "vdc-guest: ready"
ok "f2's guest is ready" vdc_wait 60 vdc_console_has f2 "vdc-guest: ready"
d1=$(vdc_domain_of a f1)
d2=$(vdc_domain_of a f2)
q1=$(vdc_qemu_pid a "$d1")
q2=$(vdc_qemu_pid a "$d2")
like "$q1 $q2" '^[0-9]+ [0-9]+$' "both guests have a qemu process"
# The guests as libvirt and the kernel see them: the same two qemu
# processes, no other domain.
same_qemus() {
	[ "$(vdc_qemu_pid a "$d1")" = "$q1" ] && [ "$(vdc_qemu_pid a "$d2")" = "$q2" ] &&
		kill -0 "$q1" 2> /dev/null && kill -0 "$q2" 2> /dev/null &&
		[ "$(vdc_domains a | wc -l)" = 2 ]
}
# ... and booted once: the consoles show one "ready" each.
same_guests() {
	same_qemus &&
		[ "$(vdc_console_count f1 "vdc-guest: ready")" = 1 ] &&
		[ "$(vdc_console_count f2 "vdc-guest: ready")" = 1 ]
}
# What the tree says, without the live parts that may move (console,
# events, times).
tree() {
	(cd "$MNT" && find instances images hosts -path '*/run' -prune -o -print | sort &&
		for i in instances/*/; do
			printf '%s %s %s %s\n' "$i" "$(get "$i/power")" "$(readlink "$i/image")" "$(get "$i/memory")"
		done)
}

# ---- kill -9 vdc-hva ----

hp=$(vdc_hva_pid a)
vdc_hva_kill9 a
nok "kill -9 vdc-hva: it is gone" kill -0 "$hp"
sleep 1
ok "the guests run on, untouched" same_guests
vdc_hva_restart a
ok "the restarted agent reports: host a is up" vdc_wait_host_state a up 30
ok "f1 is running" vdc_wait_state f1 running 30
ok "f2 is running" vdc_wait_state f2 running 30
sleep "$((VDC_HVA_HEARTBEAT * 2 + 1))"
ok "the guests were adopted: same qemu processes, no second copy, no reboot" same_guests
is "$(get "$MNT/instances/f1/run/host")" a "f1 is still on a"
isnt "$(get "$MNT/hosts/a/run/state")" unknown "host a is not unknown"

# ---- kill -9 vdcfs ----

before=$(tree)
join_before=$(get "$MNT/hosts/join")
vdc_join_read
{ vdc_kill9; } 2> /dev/null
nok "kill -9 vdcfs: it is gone" mountpoint -q "$MNT"
sleep 1
ok "the guests run on while vdcfs is down" same_qemus
# The same address and port, so the agents (which have the join command's
# --server) find it again; the state keeps the key, so the pin holds.
VDC_LISTEN=$JOIN_SERVER
vdc_restart
is "$(tree)" "$before" "the same tree after the restart"
is "$(get "$MNT/hosts/join")" "$join_before" "the same join command (key, token, address)"
ok "the agent reconnects: host a is up" vdc_wait_host_state a up 30
ok "f1 is running" vdc_wait_state f1 running 30
ok "f2 is running" vdc_wait_state f2 running 30
ok "f1's console is back" vdc_wait 20 vdc_console_has f1 "vdc-guest: ready"
ok "f2's console is back" vdc_wait 20 vdc_console_has f2 "vdc-guest: ready"
sleep "$((VDC_HVA_HEARTBEAT * 2 + 1))"
ok "the guests are the same ones" same_guests
ok "the agent process lived through it" kill -0 "$(vdc_hva_pid a)"

# ---- an agent stops ----

vdc_hva_stop a
pass "vdc-hva stops (SIGTERM)"
ok "host a turns unknown after host-timeout ($VDC_HOST_TIMEOUT s)" \
	vdc_wait_host_state a unknown "$((VDC_HOST_TIMEOUT + 10))"
ok "f1 turns unknown" vdc_wait_state f1 unknown 5
ok "f2 turns unknown" vdc_wait_state f2 unknown 5
ok "its guests still run" same_guests
fails_with EBUSY "evacuating an unknown host is refused" put evacuate "$MNT/hosts/a/ctl"
fails_with EBUSY "rmdir of an unknown instance is refused" rmdir "$MNT/instances/f1"
vdc_hva_restart a
ok "the agent returns: host a is up" vdc_wait_host_state a up 30
ok "f1 is running again" vdc_wait_state f1 running 30
ok "f2 is running again" vdc_wait_state f2 running 30
sleep "$((VDC_HVA_HEARTBEAT * 2 + 1))"
ok "nothing was started twice or rebooted" same_guests
ok "run/events tells the host went unknown" vdc_events_has 'unknown'

# ---- a guest that dies is seen ----

# Killed from outside, f2's qemu is gone; whether vdc-hva starts it again
# (power is still on) is its policy: run/state must follow libvirt either way.
kill -9 "$q2"
agrees() {
	local st ds
	st=$(get "$MNT/instances/f2/run/state")
	ds=$(vdc_host_virsh a domstate "$d2" 2> /dev/null)
	if [ "$ds" = running ]; then
		[ "$st" = running ] && [ "$(vdc_qemu_pid a "$d2")" != "$q2" ]
	else
		[ "$st" != running ]
	fi
}
ok "f2's qemu killed from outside: run/state follows libvirt" vdc_wait 30 agrees
diag "f2 is now $(get "$MNT/instances/f2/run/state") ($(vdc_host_virsh a domstate "$d2" 2> /dev/null)): $(get "$MNT/instances/f2/run/err")"

vdc_hva_stop a
vdc_stop
done_testing
