#!/bin/bash
# Killed at any moment, vdcfs loses nothing a write(2) or mkdir(2) already
# returned success for, leaves no half-made object, and shows the same tree
# when restarted.
. "$(dirname "$0")/lib.sh"
vdc_start

PLAIN="console cpus ctl disk disk-size hostname memory nics power run security-groups snapshots ssh-keys user-data volumes"
LOG=$VDC_TMP/acks.log
: > "$LOG"

for w in $(seq 0 9); do
	mkdir "$MNT/instances/w$w" || { echo "Bail out! mkdir w$w failed"; exit 1; }
done

# The writer: acknowledged writes and mkdirs, each logged only once the
# command returned success ("try" before, "ack" after). It stops at the
# first failure, which must come after the kill.
writer() {
	local i=$1 w f v
	while :; do
		w=$((i % 10))
		if [ $((i % 25)) = 0 ]; then
			echo "try mkdir instances/m$i" >> "$LOG"
			mkdir 2>> "$VDC_TMP/writer.err" "$MNT/instances/m$i" || break
			echo "ack mkdir instances/m$i" >> "$LOG"
			f=instances/m$i/hostname v=host$i
			echo "try $f $v" >> "$LOG"
			echo "$v" 2>> "$VDC_TMP/writer.err" > "$MNT/$f" || break
			echo "ack $f $v" >> "$LOG"
		fi
		f=instances/w$w/memory v=$((64 + i))M
		echo "try $f $v" >> "$LOG"
		echo "$v" 2>> "$VDC_TMP/writer.err" > "$MNT/$f" || break
		echo "ack $f $v" >> "$LOG"
		f=instances/w$w/cpus v=$((i % 128 + 1))
		echo "try $f $v" >> "$LOG"
		echo "$v" 2>> "$VDC_TMP/writer.err" > "$MNT/$f" || break
		echo "ack $f $v" >> "$LOG"
		i=$((i + 1))
	done
	[ -e "$VDC_TMP/killed" ] || echo "early-failure at $i" >> "$LOG"
	# The next round starts past what may have been in flight.
	echo $((i + 1)) > "$VDC_TMP/next"
}

# Check the remounted tree against the log: the last acknowledged value of
# each file is there, or the value that was in flight at the kill.
verify() {
	local round=$1 f v cur bad=0 missing=0 half=0 inflight_f="" inflight_v="" last d
	last=$(tail -n 1 "$LOG")
	case $last in
	"try mkdir "*) inflight_f="mkdir" ;;
	"try "*) read -r _ inflight_f inflight_v <<< "$last" ;;
	esac
	while read -r f v; do
		cur=
		read -r cur < "$MNT/$f"
		if [ "$cur" = "$v" ]; then
			continue
		fi
		if [ "$f" = "$inflight_f" ] && [ "$cur" = "$inflight_v" ]; then
			continue
		fi
		bad=$((bad + 1))
		[ $bad -gt 3 ] || diag "round $round: $f holds '$cur', acknowledged '$v' (in flight: $inflight_f $inflight_v)"
	done < <(awk '$1 == "ack" && $2 != "mkdir" { last[$2] = $3 } END { for (f in last) print f, last[f] }' "$LOG")
	while read -r d; do
		if [ ! -d "$MNT/$d" ]; then
			missing=$((missing + 1))
			[ $missing -gt 3 ] || diag "round $round: acknowledged $d is missing"
		fi
	done < <(awk '$1 == "ack" && $2 == "mkdir" { print $3 }' "$LOG")
	for d in "$MNT"/instances/*; do
		if [ "$(ls -A "$d" | tr '\n' ' ' | sed 's/ $//')" != "$PLAIN" ] || ! read -r cur < "$d/cpus"; then
			half=$((half + 1))
			[ $half -gt 3 ] || diag "round $round: $d holds: $(ls -A "$d" | tr '\n' ' ')"
		fi
	done
	is "$bad" 0 "round $round: every acknowledged write is there after kill -9 ($(grep -c '^ack' "$LOG") acks so far)"
	is "$missing" 0 "round $round: every acknowledged mkdir is there"
	is "$half" 0 "round $round: no instance is half-made"
}

echo 0 > "$VDC_TMP/next"
for round in 1 2 3 4; do
	rm -f "$VDC_TMP/killed"
	acks_before=$(grep -c '^ack' "$LOG")
	writer "$(cat "$VDC_TMP/next")" &
	wpid=$!
	# Kill at a random point 0.3-1.2 s into the writes, counted from the
	# first one acknowledged: a vdcfs just restarted under valgrind may
	# take longer than that to answer its first.
	vdc_wait 30 sh -c "[ \$(grep -c '^ack' '$LOG') -gt $acks_before ]"
	sleep "0.$((RANDOM % 10 + 3))"
	touch "$VDC_TMP/killed"
	vdc_kill9
	for n in $(seq 1 100); do
		kill -0 "$wpid" 2> /dev/null || break
		sleep 0.1
	done
	if kill -0 "$wpid" 2> /dev/null; then
		kill "$wpid"
		fail "round $round: the writer stopped after the kill"
	fi
	wait "$wpid"
	acks=$(($(grep -c '^ack' "$LOG") - acks_before))
	ok "round $round: the writer had acknowledged writes before the kill ($acks)" test "$acks" -gt 0
	is "$(grep -c early-failure "$LOG")" 0 "round $round: no write failed before the kill"
	vdc_restart
	verify "$round"
done
diag "writer errors after the kills: $(sort "$VDC_TMP/writer.err" | sed 's/.*: //' | sort | uniq -c | tr '\n' ';')"

# The same tree after a clean restart and after a kill -9 at rest.
# listing DIR: every entry but run/ and hosts/ (whose join names the agent
# port, picked anew at each start here) with type, mode, owner, size and
# link text, then the content of every file.
listing() {
	(
		cd "$1" || exit 1
		find . \( -name run -o -path ./hosts \) -prune -o -printf '%p %y %m %u %g %s %l\n' | sort
		find . \( -name run -o -path ./hosts \) -prune -o -type f -print0 | sort -z | xargs -0 md5sum
	)
}
mkdir "$MNT/images/tiny" "$MNT/volumes/v1" "$MNT/networks/n1" "$MNT/security-groups/sg" "$MNT/instances/w0/nics/eth0"
head -c 1000000 /dev/urandom > "$MNT/images/tiny/data"
ln -s ../../images/tiny "$MNT/instances/w0/image"
ln -s ../../../volumes/v1 "$MNT/instances/w0/volumes/v1"
ln -s ../../../security-groups/sg "$MNT/instances/w0/security-groups/sg"
ln -s ../../../../networks/n1 "$MNT/instances/w0/nics/eth0/network"
put 10.1.0.0/16 "$MNT/networks/n1/cidr"
printf '#cloud-config\nruncmd:\n  - true\n' | putb "$MNT/instances/w1/user-data"
printf 'in tcp 22 0.0.0.0/0\nin udp 53 10.0.0.0/8\n' | putb "$MNT/security-groups/sg/rules"
put on "$MNT/instances/w2/power"
state_w2=$(get "$MNT/instances/w2/run/state")
listing "$MNT" > "$VDC_TMP/list.1"
vdc_restart
listing "$MNT" > "$VDC_TMP/list.2"
ok "a clean restart shows the same tree ($(wc -l < "$VDC_TMP/list.1") lines)" diff "$VDC_TMP/list.1" "$VDC_TMP/list.2"
is "$(get "$MNT/instances/w2/run/state")" "$state_w2" "run/state survives a restart"
vdc_kill9
vdc_restart
listing "$MNT" > "$VDC_TMP/list.3"
ok "a kill -9 at rest and a restart show the same tree" diff "$VDC_TMP/list.1" "$VDC_TMP/list.3"
ok "the listing is not empty" grep -q 'instances/w0/nics/eth0/network l .* ../../../../networks/n1' "$VDC_TMP/list.3"

done_testing
