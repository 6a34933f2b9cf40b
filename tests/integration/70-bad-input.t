#!/bin/bash
# Bad input never crashes vdcfs nor changes what it must not: long names,
# '..', files and folders where the tree is fixed, live files, binary junk,
# concurrent writers.
. "$(dirname "$0")/lib.sh"
vdc_start

I=$MNT/instances/web1
mkdir "$I" "$MNT/images/tiny" "$MNT/networks/net1" "$MNT/security-groups/sg" "$MNT/ssh-keys/k" "$MNT/volumes/v"
alive() { mountpoint -q "$MNT" && timeout 10 cat "$I/cpus" > /dev/null; }

# ---- long names ----
long255=$(printf 'a%.0s' $(seq 255))
long256=$(printf 'a%.0s' $(seq 256))
fails_with EINVAL "mkdir of a 255-character name is EINVAL" mkdir "$MNT/instances/$long255"
fails_with "ENAMETOOLONG|EINVAL" "mkdir of a 256-character name fails" mkdir "$MNT/instances/$long256"
fails_with EINVAL "a 255-character nic name is EINVAL" mkdir "$I/nics/$long255"
fails_with EINVAL "a 255-character relation link name is EINVAL" ln -s ../../../volumes/v "$I/volumes/$long255"
fails_with "ENAMETOOLONG|EINVAL" "a link target of 5000 bytes fails" ln -s "../../images/$(printf 'b%.0s' $(seq 5000))" "$I/image"
fails_with EINVAL "a link target of 4000 bytes fails" ln -s "$(printf 'c%.0s' $(seq 4000))" "$I/image"
fails_with EINVAL "a link to a 255-character image name fails" ln -s "../../images/$long255" "$I/image"
ok "vdcfs still answers after long names" alive
nok "no object was made" test -e "$MNT/instances/$long255"

# ---- '..' and '.' ----
ok "mkdir instances/web1/../web2 makes instances/web2" mkdir "$I/../web2"
ok "instances/web2 exists" test -f "$MNT/instances/web2/cpus"
fails_with EEXIST "mkdir instances/.. is EEXIST" mkdir "$MNT/instances/.."
fails_with EEXIST "mkdir instances/. is EEXIST" mkdir "$MNT/instances/."
fails_with EINVAL "mkdir of a name with dots is EINVAL" mkdir "$MNT/instances/a..b"
fails_with EINVAL "mkdir of '...' is EINVAL" mkdir "$MNT/instances/..."
ok "a link through .. inside the tree is accepted" ln -s ../../images/../images/tiny "$I/image"
is "$(readlink "$I/image")" ../../images/tiny "and is stored normalized"
rm "$I/image"
fails_with EXDEV "a link climbing above the root fails" ln -s ../../../../../../../../images/tiny "$I/image"
fails_with EINVAL "a link to a kind folder fails" ln -s ../../images "$I/image"
fails_with EINVAL "a link to a file inside an object fails" ln -s ../../images/tiny/data "$I/image"
fails_with EINVAL "a link to '.' fails" ln -s . "$I/image"

# ---- the fixed shape of the tree ----
fails_with "EPERM|EACCES" "mkdir in the root fails" mkdir "$MNT/things"
fails_with "EPERM|EACCES" "touch in the root fails" touch "$MNT/file"
fails_with "EPERM|EACCES" "touch instances/file fails" touch "$MNT/instances/file"
fails_with "EPERM|EACCES" "echo > instances/file fails" bash -c "echo x > '$MNT/instances/file'"
like "$(get "$MNT/run/events" | tail -n 1)" "mkdir" "run/events tells how to make an instance"
fails_with "EPERM|EACCES" "a symlink in the root fails" ln -s instances "$MNT/link"
fails_with "EPERM|EACCES" "a symlink in instances/ fails" ln -s web1 "$MNT/instances/alias"
fails_with "EPERM|EACCES" "mkdir inside an object fails" mkdir "$I/extra"
fails_with "EPERM|EACCES" "mkdir inside run/ fails" mkdir "$I/run/x"
fails_with "EPERM|EACCES" "a file cannot be made in run/" touch "$I/run/x"
fails_with "EPERM|EACCES" "mkdir inside hosts/ fails" mkdir "$MNT/hosts/h1"
fails_with "EPERM|EACCES" "writing /run/events fails" bash -c "echo hello > '$MNT/run/events'"
unlike "$(get "$MNT/run/events")" "^hello" "run/events does not hold the written line"
fails_with "EPERM|EACCES" "appending to /run/events fails" bash -c "echo hello >> '$MNT/run/events'"
fails_with "EPERM|EACCES" "writing /run/CACHEDIR.TAG fails" bash -c "echo x > '$MNT/run/CACHEDIR.TAG'"
fails_with EBUSY "rmdir of a kind folder is EBUSY" rmdir "$MNT/instances"
fails_with "EBUSY|ENOTEMPTY" "rmdir of /run fails" rmdir "$MNT/run"
fails_with ENOTEMPTY "rmdir of an object's run/ is ENOTEMPTY" rmdir "$I/run"
fails_with EPERM "chmod of a kind folder is EPERM" chmod 700 "$MNT/instances"
fails_with EPERM "chown of a kind folder to a user is EPERM" chown 65534 "$MNT/instances"
nok "a hard link is refused" ln "$I/cpus" "$I/cpus2"
nok "mkfifo in an object is refused" mkfifo "$I/fifo"
nok "renaming an object to a bad name fails" mv -T "$I" "$MNT/instances/Web1"
like "$(get "$I/run/err")" "name 'Web1' must start with a letter" "run/err says why the name is refused"
ok "web1 keeps its name" test -d "$I"
nok "moving an object into another kind fails" mv -T "$MNT/instances/web2" "$MNT/volumes/web2"
ok "instances/web2 is still there" test -f "$MNT/instances/web2/cpus"
nok "and no volumes/web2 was made" test -e "$MNT/volumes/web2"
rm -rf "$MNT/volumes/web2" 2> /dev/null
# A name with terminal escapes reaches run/events escaped, never raw.
esc=$(printf 'x\033[2J\007')
nok "a file cannot be made directly in instances/" sh -c ": > '$MNT/instances/$esc'"
unlike "$(tail -n 1 "$MNT/run/events" | od -c)" '033' "run/events does not carry the raw escape byte"
like "$(tail -n 1 "$MNT/run/events")" 'x1b' "run/events shows it as \\x1b"
ok "vdcfs still answers" alive

# ---- too many temporary files ----
n=0
for k in $(seq 1 80); do
	: 2> /dev/null > "$I/tmp$k" || break
	n=$k
done
ok "temporary files are bounded ($n made before a refusal)" test "$n" -lt 80
fails_with ENOSPC "one more is ENOSPC" bash -c ": > '$I/one-more'"
for k in $(seq 1 "$n"); do rm -f "$I/tmp$k"; done
ok "after removing them a temporary file can be made again" bash -c ": > '$I/again' && rm '$I/again'"
is "$(ls -A "$I" | tr '\n' ' ')" "console cpus ctl disk disk-size hostname memory nics power run security-groups snapshots ssh-keys user-data volumes " \
	"the object holds only its entries"

# ---- one spelling a value: each refusal keeps the old value and says why ----
N=$MNT/networks/net1
# refused ERRNO FILE VALUE ERR-ERE DESC: the write fails with ERRNO, the
# object's run/err matches ERR-ERE and FILE keeps its value.
refused() {
	local errno=$1 f=$2 v=$3 want=$4 desc=$5 old
	old=$(get "$f")
	fails_with "$errno" "$desc is $errno" put "$v" "$f"
	like "$(get "$(dirname "$f")/run/err")" "$want" "run/err says why ($desc)"
	is "$(get "$f")" "$old" "the old value stays ($desc)"
}
put 2 "$I/cpus"
refused EINVAL "$I/cpus" 010 "cpus '010' starts with a zero" "cpus 010 (a leading zero)"
refused EINVAL "$I/memory" 0512M "memory '0512M' starts with a zero" "memory 0512M"
put 10.0.0.0/24 "$N/cidr"
refused EINVAL "$N/cidr" 10.0.0.0/024 "prefix length with a leading zero" "cidr 10.0.0.0/024"
put web1 "$I/hostname"
refused EINVAL "$I/hostname" 1.2.3.4 "hostname '1.2.3.4' ends in a label of digits only" "hostname 1.2.3.4"
refused EINVAL "$I/hostname" 123 "needs a letter" "hostname 123"
ok "hostname 1host (a digit first) is accepted" put 1host "$I/hostname"
put "192.0.2.53" "$N/dns"
refused EINVAL "$N/dns" 1.1.1.1,8.8.8.8 "holds a comma; separate the addresses with single spaces" "dns 1.1.1.1,8.8.8.8"
refused EINVAL "$N/dns" "1.1.1.1  8.8.8.8" "single spaces" "dns with two spaces"
ok "dns 1.1.1.1 8.8.8.8 is accepted" put "1.1.1.1 8.8.8.8" "$N/dns"
# A nic's mac and auto-ip (docs/networks.md, "MACs and addresses").
C=$I/nics/eth9
mkdir "$C" && ln -s ../../../../networks/net1 "$C/network"
refused EINVAL "$C/mac" 01:00:5e:00:00:01 "is a multicast address" "mac 01:00:5e:00:00:01 (multicast)"
refused EINVAL "$C/mac" ff:ff:ff:ff:ff:ff "is a multicast address" "mac ff:ff:ff:ff:ff:ff (broadcast)"
refused EINVAL "$C/mac" 00:00:00:00:00:00 "is all zero" "mac 00:00:00:00:00:00"
refused EINVAL "$C/mac" 52:54:01:00:00:01 "the MACs vdcfs gives networks' bridges" "mac 52:54:01:00:00:01 (a bridge's)"
refused EINVAL "$C/mac" 52-54-00-00-00-01 "is not a MAC address" "mac 52-54-00-00-00-01"
refused EINVAL "$C/mac" 52:54:00:00:00:1 "is not a MAC address" "mac 52:54:00:00:00:1"
refused EFBIG "$C/mac" 52:54:00:00:00:01:02 "at most 17 bytes" "mac of 20 characters"
refused EINVAL "$C/auto-ip" 10.0.1.5 "is not a host address of the network's cidr" "auto-ip 10.0.1.5 (outside the cidr)"
refused EINVAL "$C/auto-ip" 10.0.0.255 "is not a host address of the network's cidr" "auto-ip 10.0.0.255 (broadcast)"
refused EADDRINUSE "$C/auto-ip" 10.0.0.254 "DHCP server" "auto-ip 10.0.0.254 (the DHCP server's)"
refused EINVAL "$C/auto-ip" 10.0.0.05 "not an IPv4 address|is not" "auto-ip 10.0.0.05"
ok "mac 02:00:00:00:00:01 is accepted" put 02:00:00:00:00:01 "$C/mac"
is "$(get "$C/run/mac")" 02:00:00:00:00:01 "... and is the nic's MAC"
ok "auto-ip 10.0.0.77 is accepted" put 10.0.0.77 "$C/auto-ip"
is "$(get "$C/run/ip")" 10.0.0.77 "... and is the nic's address"
ok "rmdir the nic" rmdir "$C"
# The bidirectional controls, as UTF-8 (the tests run in the C locale).
printf '#cloud-config\n' | putb "$I/user-data"
for b in 061C:'\330\234' 200E:'\342\200\216' 200F:'\342\200\217' 202A:'\342\200\252' 202B:'\342\200\253' \
	202C:'\342\200\254' 202D:'\342\200\255' 202E:'\342\200\256' 2066:'\342\201\246' 2067:'\342\201\247' \
	2068:'\342\201\250' 2069:'\342\201\251'; do
	cp=${b%%:*}
	refused EINVAL "$I/user-data" "$(printf "#cloud-config\nrunfile: exe${b#*:}.txt")" \
		"line 2 holds bidirectional control U\\+$cp" "U+$cp in user-data"
done
refused EINVAL "$I/hostname" "$(printf 'web\342\200\256')" "bidirectional control U\\+202E" "U+202E in hostname"
put 'in tcp 22 0.0.0.0/0' "$MNT/security-groups/sg/rules"
refused EINVAL "$MNT/security-groups/sg/rules" 'in tcp 022 0.0.0.0/0' "port '022'" "rules with port 022"

# A multi-line value past its maximum fails at a write(2), as cat sees it,
# not at close: write_all FILE [append] writes stdin as cat does (again
# after a short write) and says which call failed, with its errno.
write_all() {
	timeout -k 2 "$VDC_TIMEOUT" python3 -c '
import errno, os, sys
data = sys.stdin.buffer.read()
flags = os.O_WRONLY | (os.O_APPEND if len(sys.argv) > 2 else os.O_TRUNC)
fd = os.open(sys.argv[1], flags)
done = 0
try:
    while done < len(data):
        done += os.write(fd, data[done:])
except OSError as e:
    print("write", errno.errorcode[e.errno])
    sys.exit(0)
try:
    os.close(fd)
except OSError as e:
    print("close", errno.errorcode[e.errno])
    sys.exit(0)
print("ok", done)' "$@"
}
if command -v python3 > /dev/null; then
	printf '#cloud-config\n' | putb "$I/user-data"
	is "$(head -c 65537 /dev/zero | tr '\0' a | write_all "$I/user-data")" "write EFBIG" \
		"a 65,537-byte user-data fails at write(2) with EFBIG"
	like "$(get "$I/run/err")" "user-data takes at most 65536 bytes" "run/err says user-data's maximum"
	is "$(get "$I/user-data")" "#cloud-config" "user-data keeps its value"
	is "$({ head -c 65535 /dev/zero | tr '\0' a; echo; } | write_all "$I/user-data")" "ok 65536" \
		"a 65,536-byte user-data (its newline included) is accepted"
	is "$(head -c 40000 /dev/zero | tr '\0' b | write_all "$I/user-data")" "ok 40000" "a 40,000-byte user-data is accepted"
	is "$(head -c 30000 /dev/zero | tr '\0' c | write_all "$I/user-data" append)" "write EFBIG" \
		"an append that takes user-data past 65536 bytes fails at write(2)"
	is "$(vdc_size "$I/user-data")" 40000 "and user-data keeps its 40,000 bytes"
	printf '#cloud-config\n' | putb "$I/user-data"
else
	skip "python3 is needed to tell a failed write(2) from a failed close(2)"
fi

# ---- binary junk into every attribute ----
put 2 "$I/cpus"
put 1G "$I/memory"
put web1 "$I/hostname"
printf '#cloud-config\n' | putb "$I/user-data"
put 10.0.0.0/24 "$MNT/networks/net1/cidr"
put 10.0.0.1 "$MNT/networks/net1/gateway"
put 'in tcp 22 0.0.0.0/0' "$MNT/security-groups/sg/rules"
put 20G "$MNT/volumes/v/size"
ATTRS="instances/web1/cpus instances/web1/memory instances/web1/hostname instances/web1/user-data
instances/web1/power networks/net1/cidr networks/net1/gateway networks/net1/dhcp networks/net1/dns
security-groups/sg/rules ssh-keys/k/public-key volumes/v/size"
declare -A before
for f in $ATTRS; do before[$f]=$(get "$MNT/$f"); done
for k in 1 2 3; do
	# An invalid UTF-8 lead byte and a control byte first: never text.
	{ printf '\377\001'; head -c 100 /dev/urandom; } > "$VDC_TMP/junk$k"
done
printf 'on\0' > "$VDC_TMP/nul"
printf '\033[31mred\n' > "$VDC_TMP/esc"
printf '2\r\n' > "$VDC_TMP/crlf"
printf '\302\233 csi\n' > "$VDC_TMP/c1"
refused=0 total=0
for f in $ATTRS; do
	for j in junk1 junk2 junk3 nul esc crlf c1; do
		total=$((total + 1))
		if ! timeout 10 bash -c "cat '$VDC_TMP/$j' > '$MNT/$f'" 2> /dev/null; then
			refused=$((refused + 1))
		else
			diag "$j into $f was accepted"
		fi
	done
	timeout 10 bash -c "head -c 100 /dev/urandom > '$MNT/$f'" 2> /dev/null
done
is "$refused" "$total" "every junk write into every attribute fails ($total writes)"
same=1
for f in $ATTRS; do
	now=$(get "$MNT/$f")
	[ "$now" = "${before[$f]}" ] || { same=0; diag "$f changed from '${before[$f]}' to '$now'"; }
done
is "$same" 1 "every attribute keeps its value after junk and /dev/urandom"
nok "junk into ctl fails" bash -c "cat '$VDC_TMP/junk1' > '$I/ctl'"
head -c 1000000 /dev/zero | tr '\0' r > "$VDC_TMP/bigctl"
nok "a 1 MB write into ctl fails" bash -c "cat '$VDC_TMP/bigctl' > '$I/ctl'"
is "$(get "$I/run/state")" defined "the instance is still defined"
ok "vdcfs still answers (mountpoint -q)" mountpoint -q "$MNT"
ok "vdcfs still serves reads" alive

# ---- concurrent writers to one file ----
put 1 "$I/cpus"
writer() {
	local v=$1 n fails=0
	for n in $(seq 1 500); do
		echo "$v" 2>> "$VDC_TMP/writers.err" > "$I/cpus" || fails=$((fails + 1))
	done
	echo "$fails" > "$VDC_TMP/writer$v.fails"
}
writer 7 &
w1=$!
writer 9 &
w2=$!
wait $w1 $w2
is "$(cat "$VDC_TMP/writer7.fails") $(cat "$VDC_TMP/writer9.fails")" "0 0" "1000 concurrent writes all return success" ||
	diag "$(sort "$VDC_TMP/writers.err" | uniq -c | head -n 3)"
like "$(get "$I/cpus")" '^(7|9)$' "the final value is one of the two"
is "$(vdc_size "$I/cpus")" 2 "st_size agrees"
# Two writers of multi-line values: every read is one whole value.
printf 'in tcp 22 0.0.0.0/0\nin tcp 80 0.0.0.0/0\n' > "$VDC_TMP/ra"
printf 'in udp 53 10.0.0.0/8\nin udp 123 10.0.0.0/8\nin icmp - 0.0.0.0/0\n' > "$VDC_TMP/rb"
mwriter() {
	local n fails=0
	for n in $(seq 1 200); do
		cat "$VDC_TMP/$1" 2>> "$VDC_TMP/writers.err" > "$MNT/security-groups/sg/rules" || fails=$((fails + 1))
	done
	echo "$fails" > "$VDC_TMP/mwriter$1.fails"
}
mwriter ra &
w1=$!
mwriter rb &
w2=$!
wait $w1 $w2
is "$(cat "$VDC_TMP/mwriterra.fails") $(cat "$VDC_TMP/mwriterrb.fails")" "0 0" "400 concurrent rules writes all return success"
rules=$(get "$MNT/security-groups/sg/rules")
ok "the rules are one of the two whole values" test "$rules" = "$(cat "$VDC_TMP/ra")" -o "$rules" = "$(cat "$VDC_TMP/rb")"

# Bytes for a volume on no storage host (none has joined) have nowhere to
# go: refused with EAGAIN and a sentence in run/err, never an unexplained
# EINVAL - also for tar x of a data center's volume into this mount.
fails_with EAGAIN "bytes written to a volume on no storage host are refused" \
	bash -c "echo hello > '$MNT/volumes/v/data'"
like "$(get "$MNT/volumes/v/run/err")" "volume v has no storage host yet" "run/err says why"
mkdir -p "$VDC_TMP/src/volumes/vt"
echo 1M > "$VDC_TMP/src/volumes/vt/size"
echo some-bytes > "$VDC_TMP/src/volumes/vt/data"
tar -C "$VDC_TMP/src" -cf "$VDC_TMP/vt.tar" volumes/vt/size volumes/vt/data
out=$(tar -C "$MNT" -xf "$VDC_TMP/vt.tar" 2>&1)
isnt "$?" 0 "tar x of a volume's bytes into a data center with no storage host fails"
like "$out" "Cannot write: Resource temporarily unavailable" "with EAGAIN, not EINVAL"
like "$(get "$MNT/volumes/vt/run/err")" "volume vt has no storage host yet" "and the volume's run/err says why"

ok "vdcfs is still up at the end" mountpoint -q "$MNT"
ok "and its process is alive" kill -0 "$VDC_PID_main"
done_testing
