# Issue 3: the scheduler with two real hosts of different capacities
# (vdc-hva --memory caps): placement follows capacity, an instance that fits
# nowhere is unschedulable with the reason, `schedulable off` and
# `ctl evacuate` move work away.
#
# Each host offers at most the machine's cpus (2 on CI), so every host
# holds at most two one-cpu instances; the plan below stays inside that.

# At least 400 s; more when the caller asks for more (make valgrind).
VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 400 ? VDC_WATCHDOG : 400 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
. "$(dirname "$0")/hva.sh"

[ "$(nproc)" -ge 2 ] || skip_all "needs 2 cpus (each host offers at most the machine's)"

vdc_start
ok "the test image is imported" vdc_import_tiny
H=$MNT/hosts

# listed HOST: hosts/HOST/instances/ by readdir ("" lists hosts/ itself).
listed() { ls "$H/${1:+$1/instances}" 2> /dev/null | sort | tr '\n' ' '; }

up_a=0 up_b=0
vdc_hva_host a 1 --memory 256M --cpus 2 && up_a=1
vdc_hva_host b 2 --memory 1G --cpus 2 && up_b=1
if [ $up_a = 1 ] && [ $up_b = 1 ]; then
	pass "hosts a (256M) and b (1G) join"
else
	fail "hosts a (256M) and b (1G) join"
	vdc_hva_diag a
	vdc_hva_diag b
	echo "Bail out! no hosts"
	exit 1
fi
is "$(listed "")" "CACHEDIR.TAG a b join " "ls hosts/ shows both (joined within a second of each other)"
is "$(get "$H/a/run/memory")" 256M "hosts/a/run/memory is the --memory cap"
is "$(get "$H/b/run/memory")" 1024M "hosts/b/run/memory is the --memory cap"
is "$(get "$H/a/run/cpus")" 2 "hosts/a/run/cpus is 2"

# on NAME MEMORY: make an instance of that size and power it on.
on() {
	vdc_instance "$1" "$2" && put on "$MNT/instances/$1/power"
}
host_of() { get "$MNT/instances/$1/run/host"; }
placed() { [ -n "$(host_of "$1")" ]; }

# ---- capacity ----

ok "p1 (512M) powers on" on p1 512M
ok "p1 is placed" vdc_wait 20 placed p1
is "$(host_of p1)" b "p1 goes to b: a has no room for 512M"
ok "p2 (512M) powers on" on p2 512M
ok "p2 is placed" vdc_wait 20 placed p2
is "$(host_of p2)" b "p2 goes to b too"
ok "p3 (512M) powers on" on p3 512M
ok "p3 is unschedulable: b is full, a too small" vdc_wait_state p3 unschedulable 20
like "$(get "$MNT/instances/p3/run/err")" "room" "p3's run/err says no host has room"
is "$(host_of p3)" "" "p3 has no host"
ok "p3 powered off" put off "$MNT/instances/p3/power"
ok "p3 goes back to defined" vdc_wait_state p3 defined 10
ok "p4 (128M) powers on" on p4 128M
ok "p4 is placed" vdc_wait 20 placed p4
is "$(host_of p4)" a "p4 goes to a: b has no cpu left"
ok "p1 runs" vdc_wait_state p1 running 90
ok "p2 runs" vdc_wait_state p2 running 60
ok "p4 runs" vdc_wait_state p4 running 60
is "$(listed b)" "p1 p2 " "hosts/b/instances/ holds p1 and p2"
is "$(listed a)" "p4 " "hosts/a/instances/ holds p4"
is "$(get "$H/b/run/memory-used")" 1024M "hosts/b/run/memory-used is 1024M"
is "$(get "$H/b/run/cpus-used")" 2 "hosts/b/run/cpus-used is 2"
is "$(get "$H/a/run/memory-used")" 128M "hosts/a/run/memory-used is 128M"
is "$(vdc_domains b | wc -l)" 2 "host b's libvirt runs two domains"
is "$(vdc_domains a | wc -l)" 1 "host a's libvirt runs one"
ok "p1's domain is in host b" vdc_domain_of b p1
nok "... not in host a" vdc_domain_of a p1

# Empty b again (once the guests are up: an ACPI power button pressed
# while a guest boots is lost, and only the agent's timeout would end it).
ok "p1's guest is ready" vdc_wait 60 vdc_console_has p1 "vdc-guest: ready"
ok "p2's guest is ready" vdc_wait 60 vdc_console_has p2 "vdc-guest: ready"
put off "$MNT/instances/p1/power"
put off "$MNT/instances/p2/power"
ok "p1 stops" vdc_wait_state p1 stopped 60
ok "p2 stops" vdc_wait_state p2 stopped 60
ok "rmdir p1 p2" rmdir "$MNT/instances/p1" "$MNT/instances/p2"
ok "host b is empty" vdc_wait 30 eval '[ -z "$(vdc_domains b)" ] && [ -z "$(listed b)" ]'

# ---- schedulable off ----

# b has the larger share free, so new work would go there.
ok "echo off > hosts/b/schedulable" put off "$H/b/schedulable"
is "$(get "$H/b/schedulable")" off "hosts/b/schedulable reads off"
ok "p5 (128M) powers on" on p5 128M
ok "p5 is placed" vdc_wait 20 placed p5
is "$(host_of p5)" a "p5 goes to a although b has more room: b is not schedulable"
ok "p5 runs" vdc_wait_state p5 running 60
ok "run/events tells schedulable off" vdc_events_has "hosts/b.*schedulable off|schedulable off"
ok "echo on > hosts/b/schedulable" put on "$H/b/schedulable"
fails_with EINVAL "schedulable takes only on or off" put maybe "$H/b/schedulable"

# ---- evacuate ----

ok "echo evacuate > hosts/a/ctl" put evacuate "$H/a/ctl"
is "$(get "$H/a/schedulable")" off "evacuate turns a's schedulable off"
ok "p4 moves to b" vdc_wait 60 eval '[ "$(host_of p4)" = b ]'
ok "p5 moves to b" vdc_wait 60 eval '[ "$(host_of p5)" = b ]'
ok "p4 runs on b" vdc_wait_state p4 running 90
ok "p5 runs on b" vdc_wait_state p5 running 60
ok "host a's libvirt has no domain left" vdc_wait 30 eval '[ -z "$(vdc_domains a)" ]'
is "$(listed a)" "" "hosts/a/instances/ is empty"
is "$(listed b)" "p4 p5 " "hosts/b/instances/ holds p4 and p5"
is "$(vdc_domains b | wc -l)" 2 "host b runs exactly two domains (none started twice)"

# New work stays away from a: b is full (2 cpus), a is not schedulable.
ok "p6 (128M) powers on" on p6 128M
ok "p6 is unschedulable" vdc_wait_state p6 unschedulable 20
like "$(get "$MNT/instances/p6/run/err")" "schedulable|room" "p6's run/err says why"
ok "echo on > hosts/a/schedulable" put on "$H/a/schedulable"
ok "p6 is placed once a is schedulable again" vdc_wait 20 placed p6
is "$(host_of p6)" a "p6 goes to a"
ok "p6 runs" vdc_wait_state p6 running 90

for h in a b; do vdc_hva_stop "$h"; done
vdc_stop
done_testing
