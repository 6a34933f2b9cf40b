# Issue 3: an instance runs for real. One host with libvirtd and vdc-hva
# joins; mkdir + link the image + power on boots the test guest under TCG;
# run/state, run/host and run/console tell the truth; power off is
# graceful; ctl reboot and reset; rmdir removes the domain and the disk.

# At least 300 s; more when the caller asks for more (make valgrind).
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"

vdc_start
I=$MNT/instances/web1

ok "the test image is imported into images/tiny" vdc_import_tiny

# ---- joining ----

vdc_join_read
like "$JOIN_SERVER" "^$VDC_SERVER_ADDR:[0-9]+\$" "hosts/join names the listen address and the port picked"
like "$JOIN_PIN" '^sha256//[A-Za-z0-9+/]{43}=$' "hosts/join carries the server key's pin"
like "$JOIN_TOKEN" '^[0-9a-f]{64}$' "hosts/join carries a 32-byte hex token"
ok "host a comes up (network, mount namespace, libvirtd)" vdc_host_up a 1 || exit 1
# An operator may look before the host has joined: that must not hide the
# host once it has (a negative entry in the kernel's cache). No readdir of
# hosts/ here: it would refresh the kernel's entries and hide the problem.
nok "hosts/a does not exist before host a joins" stat "$MNT/hosts/a/run/state"
vdc_hva_start a
ok "hosts/a/run/state appears to a process that looked for it before the join" \
	vdc_wait 10 stat "$MNT/hosts/a/run/state"
if vdc_wait 30 _vdc_listed "$MNT/hosts" a && vdc_wait_host_state a up 30; then
	pass "host a joins with the join command and reports: hosts/a/run/state is up"
else
	fail "host a joins and reports"
	vdc_hva_diag a
	echo "Bail out! no host"
	exit 1
fi
is "$(get "$MNT/hosts/a/schedulable")" on "a new host is schedulable"
like "$(get "$MNT/hosts/a/run/driver")" '^qemu\b' "hosts/a/run/driver names qemu"
cpus=$(get "$MNT/hosts/a/run/cpus")
like "$cpus" '^[1-9][0-9]*$' "hosts/a/run/cpus shows the host's cpus"
ok "... at most the machine's ($(nproc))" test "${cpus:-0}" -le "$(nproc)"
like "$(get "$MNT/hosts/a/run/memory")" '^[1-9][0-9]*M$' "hosts/a/run/memory shows its memory"
is "$(get "$MNT/hosts/a/run/cpus-used")" 0 "nothing used yet"
tok=$(vdc_host_dir a)/hva/host.token
is "$(stat -c %a "$tok" 2> /dev/null)" 600 "the agent keeps its host token in STATE/host.token, 0600"
unlike "$(cat "$tok" 2> /dev/null)" "$JOIN_TOKEN" "... which is not the join token"

# ---- power on ----

ok "mkdir, link the image" vdc_instance web1
ok "user-data is written" putb "$I/user-data" <<'EOF'
#!/bin/sh
echo "web1-test: user-data ran on $(hostname)"
EOF
t0=$(date +%s%N)
ok "echo on > power" put on "$I/power"
if vdc_wait_state web1 running 60; then
	pass "run/state reaches running in $((($(date +%s%N) - t0) / 1000000)) ms"
else
	fail "run/state reaches running"
	vdc_hva_diag a
fi
is "$(get "$I/run/host")" a "run/host is a"
ok "run/console shows the hostname from the seed" vdc_wait 60 vdc_console_has web1 "vdc-guest: hostname web1"
ok "run/console shows the guest is ready" vdc_wait 30 vdc_console_has web1 "vdc-guest: ready"
ok "... and that the user-data ran" vdc_console_has web1 "web1-test: user-data ran on web1"
ok "hosts/a/instances/web1 is a link" test -L "$MNT/hosts/a/instances/web1"
is "$(get "$MNT/hosts/a/run/cpus-used")" 1 "hosts/a/run/cpus-used counts it"
is "$(get "$MNT/hosts/a/run/memory-used")" 128M "hosts/a/run/memory-used counts it"
is "$(get "$I/run/err")" "" "run/err is empty"

dom=$(vdc_domain_of a web1)
like "$dom" '^vdc-[0-9]+$' "libvirt in host a has the domain, named vdc-ID"
is "$(vdc_host_virsh a domstate "$dom")" running "libvirt says it runs"
is "$(vdc_domains a | wc -l)" 1 "one domain, no second copy"
q=$(vdc_qemu_pid a "$dom")
like "$(tr '\0' ' ' < "/proc/$q/cmdline" 2> /dev/null)" 'accel tcg|accel=tcg' "qemu runs with TCG"
unlike "$(tr '\0' ' ' < "/proc/$q/cmdline" 2> /dev/null)" ' -kernel ' "it boots through the BIOS, not a kernel given to qemu"
disk=$(vdc_host_virsh a domblklist "$dom" --details | awk '$2 == "disk" && $3 == "vda" {print $4}')
info=$(vdc_host_exec a qemu-img info -U "$disk" 2> /dev/null)
like "$info" 'file format: qcow2' "the boot disk is a qcow2 overlay"
backing=$(sed -n 's/^backing file: //p' <<< "$info" | sed 's/ (actual path.*//')
ok "... backed by the cached image in the host ($backing)" vdc_host_exec a test -f "$backing"
cmp_ok=0
cmp -s "$(vdc_tiny_image)" "$(vdc_host_dir a)/hva/${backing#/var/lib/vdc-hva/}" && cmp_ok=1
is "$cmp_ok" 1 "the cached image is the image's bytes"

# ---- reboot and reset ----

ready=$(vdc_console_count web1 "vdc-guest: ready")
downs=$(vdc_console_count web1 "vdc-guest: shutting down")
ok "echo reboot > ctl" put reboot "$I/ctl"
ok "the guest boots again" vdc_wait 90 eval '[ "$(vdc_console_count web1 "vdc-guest: ready")" -gt "$ready" ]'
is "$(get "$I/run/state")" running "run/state is running after the reboot"
is "$(vdc_qemu_pid a "$dom")" "$q" "a reboot keeps the qemu process"

ready=$(vdc_console_count web1 "vdc-guest: ready")
downs=$(vdc_console_count web1 "vdc-guest: shutting down")
ok "echo reset > ctl" put reset "$I/ctl"
ok "the guest boots again after the reset" vdc_wait 90 eval '[ "$(vdc_console_count web1 "vdc-guest: ready")" -gt "$ready" ]'
is "$(vdc_console_count web1 "vdc-guest: shutting down")" "$downs" "a reset does not ask the guest to shut down"
is "$(get "$I/run/state")" running "run/state is running after the reset"
ok "reading ctl returns nothing" test -z "$(get "$I/ctl")"
fails_with EBUSY "rmdir of a running instance is refused" rmdir "$I"

# ---- power off ----

downs=$(vdc_console_count web1 "vdc-guest: shutting down")
ok "echo off > power" put off "$I/power"
ok "run/state reaches stopped" vdc_wait_state web1 stopped 60
ok "the guest shut down gracefully (its console says so)" \
	eval '[ "$(vdc_console_count web1 "vdc-guest: shutting down")" -gt "$downs" ]'
is "$(vdc_host_virsh a domstate "$dom")" "shut off" "libvirt says shut off"
ok "the domain is kept while stopped" vdc_host_virsh a dominfo "$dom"
ok "... and its disk" vdc_host_exec a test -f "$disk"

ready=$(vdc_console_count web1 "vdc-guest: ready")
ok "echo on > power again" put on "$I/power"
ok "it runs again" vdc_wait_state web1 running 60
ok "... and boots again" vdc_wait 60 eval '[ "$(vdc_console_count web1 "vdc-guest: ready")" -gt "$ready" ]'
is "$(vdc_domain_of a web1)" "$dom" "the same domain"
ok "power off once more" put off "$I/power"
ok "stopped" vdc_wait_state web1 stopped 60

# ---- a guest that ignores the power button ----

# Its user-data empties the guest's power button handler, so only the
# agent's shutdown timeout ($VDC_HVA_SHUTDOWN_TIMEOUT s) ends it: power off
# still reaches stopped.
ok "deaf: mkdir, link the image" vdc_instance deaf
ok "deaf's user-data makes the power button do nothing" putb "$MNT/instances/deaf/user-data" <<'EOF'
#!/bin/sh
printf '#!/bin/sh\n' > /etc/acpi/PWRF/00000080
echo "deaf: the power button does nothing"
EOF
put on "$MNT/instances/deaf/power"
ok "deaf runs" vdc_wait_state deaf running 60
ok "deaf's guest is ready" vdc_wait 60 vdc_console_has deaf "vdc-guest: ready"
sleep 1
t0=$(date +%s)
ok "echo off > deaf/power" put off "$MNT/instances/deaf/power"
ok "deaf is stopping meanwhile" vdc_wait 5 vdc_is "$MNT/instances/deaf/run/state" stopping
ok "deaf reaches stopped after the shutdown timeout" vdc_wait_state deaf stopped "$((VDC_HVA_SHUTDOWN_TIMEOUT + 30))"
took=$(($(date +%s) - t0))
ok "... forced after about $VDC_HVA_SHUTDOWN_TIMEOUT s (took $took s)" \
	test "$took" -ge "$((VDC_HVA_SHUTDOWN_TIMEOUT - 2))"
is "$(vdc_console_count deaf "vdc-guest: shutting down")" 0 "deaf never shut down by itself"
ok "rmdir deaf" rmdir "$MNT/instances/deaf"

# ---- rmdir ----

ok "rmdir of the stopped instance" rmdir "$I"
ok "its domain goes away" vdc_wait 30 eval '[ -z "$(vdc_domains a)" ]'
ok "its disk goes away" vdc_wait 10 eval '! vdc_host_exec a test -e "$disk"'
ok "hosts/a/instances/ is empty" vdc_wait 10 eval '[ -z "$(ls "$MNT/hosts/a/instances")" ]'
is "$(get "$MNT/hosts/a/run/cpus-used")" 0 "hosts/a/run/cpus-used is 0 again"
ok "the cached image stays for the next instance" vdc_host_exec a test -f "$backing"

vdc_hva_stop a
vdc_stop
done_testing
