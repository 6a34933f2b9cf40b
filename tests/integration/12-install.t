#!/bin/bash
# make install puts every program hosts/join names (vdcfs, vdc-hva,
# vdc-sta), vdc, the docs and a systemd unit per agent in place, and systemd
# accepts the units as they are installed (systemd-analyze verify: every
# setting parses, the programs they start are there).
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze > /dev/null || skip_all "systemd-analyze (systemd) is not installed"
B=$(dirname "$VDCFS")
P=$VDC_TMP/prefix
# The programs under test as they are (-o: never rebuilt here, whatever
# build - plain, ASan - they come from), outside the make that runs the tests.
out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$VDC_SRC_ROOT" \
	-o "$B/vdcfs" -o "$B/vdc-hva" -o "$B/vdc-sta" \
	install BUILD="$B" PREFIX="$P" SYSTEMDDIR="$P/units" 2>&1)
is "$?" 0 "make install into a prefix works${out:+: $out}"
for prog in vdcfs vdc-hva vdc-sta; do
	ok "it installs $prog" test -x "$P/sbin/$prog"
	ok "the installed $prog is the built one" cmp -s "$B/$prog" "$P/sbin/$prog"
done
ok "and the docs the units point to" test -s "$P/share/doc/vdcfs/vdc-hva.md"
ok "it installs vdc, the user's terminal tools, into bin" test -x "$P/bin/vdc"
ok "the installed vdc is the built one" cmp -s "$B/vdc" "$P/bin/vdc"
ok "and its manual" test -s "$P/share/doc/vdcfs/vdc.md"
for u in vdc-hva vdc-sta; do
	ok "it installs $u.service" test -s "$P/units/$u.service"
	var=VDC_$(echo "${u#vdc-}" | tr a-z A-Z)_OPTS
	is "$(grep '^ExecStart=' "$P/units/$u.service")" "ExecStart=$P/sbin/$u \$$var" \
		"$u.service starts the installed $u with \$$var"
	is "$(grep '^EnvironmentFile=' "$P/units/$u.service")" "EnvironmentFile=/etc/default/$u" \
		"which /etc/default/$u holds"
	out=$(cd "$P/units" && systemd-analyze verify --man=no "./$u.service" 2>&1)
	is "$?" 0 "systemd-analyze verify accepts $u.service"
	is "$out" "" "and has nothing to say about it"
	like "$(cat "$P/units/$u.service")" "KillMode=process" "stopping $u stops the agent only"
done
sed -i 's/^ExecStart=.*/ExecStart=\/nonexistent\/vdc-hva/' "$P/units/vdc-hva.service"
nok "verify refuses a unit whose program is missing (the check checks)" \
	bash -c "cd '$P/units' && systemd-analyze verify --man=no ./vdc-hva.service"
VDC_DONE=1
done_testing
