#!/bin/bash
# Attribute files: values, units, ranges, refused values and their
# sentences, what stat says, offsets, sizes, binary junk, and the checks of
# every kind (networks, security groups, ssh keys, power, ctl).
. "$(dirname "$0")/lib.sh"
vdc_start

I=$MNT/instances/web1
mkdir "$I" "$MNT/images/tiny"

# A sentence in run/err: lower-case start, mentions WORD, no full stop.
sentence() {
	local err=$1 word=$2 desc=$3
	like "$err" "^($word|[a-z'].*$word)" "$desc: run/err says what was wrong ($word)" &&
		unlike "$err" '\.$' "$desc: the sentence has no final full stop"
}

# ---- writing and reading values ----
ok "echo 2G > memory" put 2G "$I/memory"
is "$(get "$I/memory")" 2G "memory reads back 2G"
ok "printf without a newline is accepted" sh -c "printf 4 > '$I/cpus'"
is "$(od -An -c "$I/cpus" | tr -d ' ')" '4\n' "the value reads back newline-terminated"
ok "echo 512M > memory" put 512M "$I/memory"
is "$(get "$I/memory")" 512M "memory reads back 512M"
ok "1024M is accepted" put 1024M "$I/memory"
is "$(get "$I/memory")" 1024M "memory keeps the text as written"
ok "echo web1.example.com > hostname" put web1.example.com "$I/hostname"
is "$(get "$I/hostname")" web1.example.com "hostname reads back"
ok "a multi-line user-data in one write" sh -c "printf '#cloud-config\nruncmd:\n  - echo hi\n' > '$I/user-data'"
is "$(get "$I/user-data")" "$(printf '#cloud-config\nruncmd:\n  - echo hi')" "user-data reads back all lines"

# ---- ranges and bad values: the write fails, the old value stays ----
put 2 "$I/cpus"
fails_with ERANGE "cpus 0 is ERANGE" put 0 "$I/cpus"
is "$(get "$I/cpus")" 2 "cpus keeps 2 after a refused 0"
sentence "$(get "$I/run/err")" "cpus" "cpus 0"
like "$(get "$I/run/err")" "1 to 128" "run/err says which values are accepted"
like "$(get "$MNT/run/events" | tail -n 3)" "instances/web1 error: cpus '0'" "the sentence also reaches /run/events"
fails_with ERANGE "cpus 999 is ERANGE" put 999 "$I/cpus"
is "$(get "$I/cpus")" 2 "cpus keeps 2 after a refused 999"
nok "the shell's echo x > cpus returns non-zero" sh -c "echo x > '$I/cpus'"
fails_with EINVAL "cpus x is EINVAL" put x "$I/cpus"
fails_with EINVAL "cpus -1 is EINVAL" put -1 "$I/cpus"
put 2G "$I/memory"
fails_with EINVAL "memory x is EINVAL" put x "$I/memory"
is "$(get "$I/memory")" 2G "memory keeps 2G after x"
sentence "$(get "$I/run/err")" "memory" "memory x"
like "$(get "$I/run/err")" "512M or 2G" "run/err shows how to write a size"
fails_with ERANGE "memory 1M is below the range" put 1M "$I/memory"
fails_with ERANGE "memory 2T is above the range" put 2T "$I/memory"
fails_with EINVAL "memory 100001K is not a whole MiB" put 100001K "$I/memory"
is "$(get "$I/memory")" 2G "memory still 2G"
fails_with EINVAL "power maybe is EINVAL" put maybe "$I/power"
like "$(get "$I/run/err")" "on or off" "run/err says power takes on or off"
is "$(get "$I/power")" off "power stays off"
fails_with EINVAL "hostname bad_host is EINVAL" put bad_host "$I/hostname"
is "$(get "$I/hostname")" web1.example.com "hostname keeps its value"
printf '4\n5\n' > "$VDC_TMP/two-lines"
fails_with EINVAL "two lines into a one-line attribute are EINVAL" putb "$I/cpus" < "$VDC_TMP/two-lines"
is "$(get "$I/cpus")" 2 "cpus keeps 2 after two lines"

# ---- stat tells the truth ----
# The kernel keeps attributes for up to a second (attr_timeout): let what
# the cats above cached expire, so this loop checks vdcfs's own answers.
sleep 1.1
for f in cpus memory hostname user-data power ctl run/state run/err run/events run/CACHEDIR.TAG; do
	is "$(vdc_size "$I/$f")" "$(get "$I/$f" | wc -c | tr -d ' ')" "st_size of $f equals the bytes cat returns"
done
# run/ files change behind the kernel's back (an error, a state change).
get "$I/run/err" > /dev/null
get "$I/run/state" > /dev/null
put 0 "$I/cpus" 2> /dev/null
is "$(vdc_size "$I/run/err")" "$(get "$I/run/err" | wc -c | tr -d ' ')" "st_size of run/err right after a refused write equals what cat returns"
m1=$(vdc_mtime "$I/memory")
sleep 0.05
put 4G "$I/memory"
m2=$(vdc_mtime "$I/memory")
ok "mtime moves when the content changes ($m1 -> $m2)" awk -v a="$m1" -v b="$m2" 'BEGIN { exit !(b > a) }'
is "$(vdc_size "$I/memory")" 3 "st_size follows the new value at once"
ok "stat right after a write shows the size of the new value" sh -c \
	"printf '16G\n' > '$I/memory' && test \$(stat -c %s '$I/memory') = 4"

declare -A ino
for f in cpus memory hostname user-data power ctl run run/state run/err run/CACHEDIR.TAG nics volumes; do
	ino[$f]=$(vdc_ino "$I/$f")
done
ino_dir=$(vdc_ino "$I")
is "$(vdc_ino "$I/memory")" "${ino[memory]}" "two stats give the same inode number"
is "$(echo "${ino[@]}" | tr ' ' '\n' | sort -u | wc -l)" "${#ino[@]}" "every entry has its own inode number"
vdc_restart
is "$(get "$I/memory")" 16G "memory survives a remount"
same=1
for f in "${!ino[@]}"; do
	n=$(vdc_ino "$I/$f")
	[ "$n" = "${ino[$f]}" ] || { same=0; diag "$f: ${ino[$f]} -> $n"; }
done
is "$same" 1 "inode numbers of every entry are the same after a remount"
is "$(vdc_ino "$I")" "$ino_dir" "the object's folder keeps its inode number across a remount"

# ---- odd offsets, sizes, junk ----
put 2G "$I/memory"
nok "a write at offset 5 of a 3-byte value fails" dd if=/dev/zero of="$I/memory" bs=1 seek=5 count=1 conv=notrunc status=none
is "$(get "$I/memory")" 2G "memory keeps 2G after the offset write"
like "$(get "$I/run/err")" "offset" "run/err explains the offset"
ok "vdcfs still answers" mountpoint -q "$MNT"

printf 'hello: world\n' > "$VDC_TMP/ud"
putb "$I/user-data" < "$VDC_TMP/ud"
yes aaaaaaa | head -c 70000 > "$VDC_TMP/big"
fails_with EFBIG "a 70000-byte user-data in one write is EFBIG" putb "$I/user-data" < "$VDC_TMP/big"
is "$(get "$I/user-data")" "hello: world" "user-data keeps the old value"
like "$(get "$I/run/err")" "65536" "run/err gives the limit"
head -c 65536 "$VDC_TMP/big" > "$VDC_TMP/max"
ok "a 65536-byte user-data is accepted" putb "$I/user-data" < "$VDC_TMP/max"
is "$(vdc_size "$I/user-data")" 65536 "user-data holds 65536 bytes"
putb "$I/user-data" < "$VDC_TMP/ud"
fails_with EFBIG "70000 bytes written in 8 KiB pieces (yes | head -c) are EFBIG" \
	bash -c "yes aaaaaaa | head -c 70000 > '$I/user-data'"
is "$(get "$I/user-data")" "hello: world" "user-data keeps the old value after the chunked oversized write"
putb "$I/user-data" < "$VDC_TMP/ud"

mkdir "$MNT/security-groups/sg1"
put 'in tcp 22 0.0.0.0/0' "$MNT/security-groups/sg1/rules"
head -c 100 /dev/urandom > "$VDC_TMP/junk"
# Make sure the junk is not text (an invalid UTF-8 lead byte first).
printf '\377\001' | cat - "$VDC_TMP/junk" > "$VDC_TMP/junk2"
for f in instances/web1/memory instances/web1/user-data security-groups/sg1/rules instances/web1/hostname; do
	before=$(get "$MNT/$f")
	nok "binary junk into $f fails" sh -c "cat '$VDC_TMP/junk2' > '$MNT/$f'"
	is "$(get "$MNT/$f")" "$before" "$f keeps its value after junk"
done
nok "head -c 100 /dev/urandom > memory fails" sh -c "head -c 100 /dev/urandom > '$I/memory'"
is "$(get "$I/memory")" 2G "memory keeps 2G"

ok "': > hostname' exits 0" sh -c ": > '$I/hostname'"
is "$(get "$I/hostname")" "" "': > hostname' cleared the hostname"
put web1.example.com "$I/hostname"
ok "truncate -s 0 hostname" truncate -s 0 "$I/hostname"
is "$(get "$I/hostname")" "" "truncate -s 0 cleared the hostname"

# ---- networks ----
N=$MNT/networks/net1
mkdir "$N"
ok "cidr 10.0.0.0/24" put 10.0.0.0/24 "$N/cidr"
fails_with EINVAL "a gateway outside the cidr is refused" put 10.0.1.1 "$N/gateway"
sentence "$(get "$N/run/err")" "gateway" "gateway outside"
fails_with EINVAL "the network address as gateway is refused" put 10.0.0.0 "$N/gateway"
fails_with EINVAL "the broadcast address as gateway is refused" put 10.0.0.255 "$N/gateway"
fails_with EINVAL "a gateway that is not an address is refused" put 10.0.0 "$N/gateway"
ok "a gateway inside the cidr is accepted" put 10.0.0.1 "$N/gateway"
fails_with EINVAL "a cidr with host bits set is refused" put 10.0.0.1/24 "$N/cidr"
like "$(get "$N/run/err")" "host bits.*10\.0\.0\.0/24" "run/err says host bits are set and suggests the network"
fails_with EINVAL "a cidr that leaves the gateway outside is refused" put 10.1.0.0/16 "$N/cidr"
like "$(get "$N/run/err")" "gateway" "run/err names the gateway"
fails_with ERANGE "a /31 network is refused" put 10.0.0.0/31 "$N/cidr"
fails_with EINVAL "a cidr without a prefix is refused" put 10.0.0.0 "$N/cidr"
is "$(get "$N/cidr")" 10.0.0.0/24 "cidr keeps its value"
is "$(get "$N/gateway")" 10.0.0.1 "gateway keeps its value"
ok "a wider cidr holding the gateway is accepted" put 10.0.0.0/16 "$N/cidr"
ok "dhcp off" put off "$N/dhcp"
fails_with EINVAL "dhcp yes is refused" put yes "$N/dhcp"
ok "dns with two servers" put "192.0.2.53 198.51.100.53" "$N/dns"
fails_with EINVAL "dns that is not an address is refused" put ns1.example.com "$N/dns"
fails_with EINVAL "dns with four servers is refused" put "1.1.1.1 1.0.0.1 8.8.8.8 8.8.4.4" "$N/dns"
is "$(get "$N/dns")" "192.0.2.53 198.51.100.53" "dns keeps its value"

# ---- security-group rules ----
R=$MNT/security-groups/web/rules
mkdir "$MNT/security-groups/web"
ok "rule: in tcp 22 0.0.0.0/0" put 'in tcp 22 0.0.0.0/0' "$R"
ok "echo rule >> rules appends icmp" sh -c "echo 'in icmp - 198.51.100.0/24' >> '$R'"
ok "echo rule >> rules appends sg:web" sh -c "echo 'in tcp 5432 sg:web' >> '$R'"
is "$(get "$R")" "$(printf 'in tcp 22 0.0.0.0/0\nin icmp - 198.51.100.0/24\nin tcp 5432 sg:web')" "rules holds the three lines"
is "$(vdc_size "$R")" "$(get "$R" | wc -c | tr -d ' ')" "st_size of rules after appends equals what cat returns"
printf '# web tier\nin tcp 80 0.0.0.0/0\nout any - 0.0.0.0/0\nin udp 1000-2000 10.0.0.0/8\n' > "$VDC_TMP/rules-ok"
ok "comments, out, any and port ranges are accepted" putb "$R" < "$VDC_TMP/rules-ok"
is "$(get "$R")" "$(cat "$VDC_TMP/rules-ok")" "rules reads back as written"
printf 'in tcp 80 0.0.0.0/0\nin tcp 443 0.0.0.0/0\nin foo 1 192.0.2.0/24\n' > "$VDC_TMP/rules-bad"
fails_with EINVAL "a bad protocol on line 3 is refused" putb "$R" < "$VDC_TMP/rules-bad"
like "$(get "$MNT/security-groups/web/run/err")" "^line 3: .*protocol 'foo'" "run/err gives the line number and the fault"
is "$(get "$R")" "$(cat "$VDC_TMP/rules-ok")" "rules keep the old value"
for bad in 'in tcp 70000 0.0.0.0/0' 'in icmp 22 0.0.0.0/0' 'up tcp 22 0.0.0.0/0' 'in tcp 22' 'in tcp 22 10.0.0.1/8' 'in tcp 30-20 0.0.0.0/0' 'in tcp 22 sg:Bad'; do
	fails_with EINVAL "rule '$bad' is refused" put "$bad" "$R"
	like "$(get "$MNT/security-groups/web/run/err")" "^line 1: " "run/err gives line 1 for '$bad'"
done
nok "a bad appended rule fails" sh -c "echo 'in tcp 99999 0.0.0.0/0' >> '$R'"
is "$(get "$R")" "$(cat "$VDC_TMP/rules-ok")" "rules keep the old value after a bad append"

# ---- ssh keys ----
K=$MNT/ssh-keys/admin/public-key
mkdir "$MNT/ssh-keys/admin"
key=
if command -v ssh-keygen > /dev/null; then
	ssh-keygen -q -t ed25519 -N '' -C test@vdcfs -f "$VDC_TMP/id" < /dev/null && key=$(cat "$VDC_TMP/id.pub")
elif command -v python3 > /dev/null; then
	key=$(python3 -c '
import base64, os, struct
def s(b): return struct.pack(">I", len(b)) + b
print("ssh-ed25519 " + base64.b64encode(s(b"ssh-ed25519") + s(os.urandom(32))).decode() + " test@vdcfs")')
fi
if [ -n "$key" ]; then
	ok "a valid ed25519 public key is accepted" put "$key" "$K"
	is "$(get "$K")" "$key" "public-key reads back"
	trunc=$(echo "$key" | awk '{ print $1, substr($2, 1, length($2) - 8) }')
	fails_with EINVAL "a key with a truncated blob is refused" put "$trunc" "$K"
	fails_with EINVAL "a key of another type than its blob is refused" put "ssh-rsa ${key#ssh-ed25519 }" "$K"
else
	skip "no ssh-keygen nor python3 to make a key"
	skip "no ssh-keygen nor python3 to make a key"
	skip "no ssh-keygen nor python3 to make a key"
	skip "no ssh-keygen nor python3 to make a key"
	skip "no ssh-keygen nor python3 to make a key"
fi
fails_with EINVAL "junk is refused as public-key" put "junk" "$K"
sentence "$(get "$MNT/ssh-keys/admin/run/err")" "public-key" "junk key"
fails_with EINVAL "a private key is refused" bash -c "printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n' > '$K'"
fails_with EINVAL "an unknown key type is refused" put "ssh-dss AAAAB3NzaC1kc3MAAACBAP test" "$K"
[ -z "$key" ] || is "$(get "$K")" "$key" "public-key keeps the valid key"

# ---- power and the state machine ----
is "$(get "$I/run/state")" defined "a new instance is defined"
ok "power on without an image" put on "$I/power"
is "$(get "$I/run/state")" error "without an image the state is error"
like "$(get "$I/run/err")" "no image" "run/err says no image is linked"
ok "power off" put off "$I/power"
is "$(get "$I/run/state")" defined "power off goes back to defined"
is "$(get "$I/run/err")" "" "power off clears run/err"
ln -s ../../images/tiny "$I/image"
ok "power on with an image" put on "$I/power"
is "$(get "$I/run/state")" unschedulable "with no host joined the state is unschedulable"
like "$(get "$I/run/err")" "no host has joined" "run/err says no host has joined"
is "$(get "$I/power")" on "power reads on"
like "$(get "$I/run/events")" "state .* -> unschedulable" "run/events logs the transition"
ok "power off" put off "$I/power"
is "$(get "$I/run/state")" defined "power off goes back to defined"
is "$(get "$I/power")" off "power reads off"
ok "writing to run/state as root changes nothing" sh -c "echo running > '$I/run/state' || true"
is "$(get "$I/run/state")" defined "run/state is still defined"

# ---- ctl ----
is "$(get "$I/ctl" | wc -c | tr -d ' ')" 0 "reading ctl returns nothing"
fails_with EINVAL "echo reboot > ctl fails when not running" put reboot "$I/ctl"
like "$(get "$I/run/err")" "running" "run/err says the verb needs a running instance"
fails_with EINVAL "echo bogus > ctl fails" put bogus "$I/ctl"
like "$(get "$I/run/err")" "bogus.*reboot.*reset.*clear" "run/err lists the verbs"
ok "an empty write to ctl does nothing" sh -c ": > '$I/ctl'"
is "$(get "$I/ctl" | wc -c | tr -d ' ')" 0 "ctl still reads empty"
ok "echo clear > ctl" put clear "$I/ctl"
is "$(get "$I/run/err" | wc -c | tr -d ' ')" 0 "clear empties run/err"
fails_with EINVAL "clear takes no arguments" put "clear now" "$I/ctl"
for kind in images volumes networks security-groups ssh-keys; do
	mkdir "$MNT/$kind/ctl-probe"
	ok "$kind have ctl with clear" put clear "$MNT/$kind/ctl-probe/ctl"
	fails_with EINVAL "$kind ctl refuses an unknown verb" put reboot "$MNT/$kind/ctl-probe/ctl"
	rmdir "$MNT/$kind/ctl-probe"
done

ok "vdcfs still answers" mountpoint -q "$MNT"
done_testing
