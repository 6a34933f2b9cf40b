#!/bin/bash
# mkdir of every kind makes every attribute file at its default; rmdir
# removes; names outside [a-z][a-z0-9-]{0,62} are EINVAL with a sentence.
. "$(dirname "$0")/lib.sh"
vdc_start

TAG_SIG="Signature: 8a477f597d28d172789f06886806bc55"

# Names in a folder, one a line, sorted (ls -A in the C locale).
names() { timeout 10 ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }

is "$(names "$MNT")" "hosts images instances networks quotas run security-groups ssh-keys volumes" \
	"the root holds the six kinds, hosts/, quotas/ and run/"
like "$(get "$MNT/run/CACHEDIR.TAG")" "^$TAG_SIG" "run/CACHEDIR.TAG is a cache directory tag"
like "$(get "$MNT/hosts/CACHEDIR.TAG")" "^$TAG_SIG" "hosts/CACHEDIR.TAG is a cache directory tag"

# check_object KIND NAME "ENTRIES" "RUNFILES" STATE
check_object() {
	local kind=$1 name=$2 entries=$3 runfiles=$4 state=$5 d=$MNT/$1/$2
	ok "mkdir $kind/$name" mkdir "$d"
	ok "$kind/$name is a folder" test -d "$d"
	is "$(names "$d")" "$entries" "$kind/$name holds: $entries"
	is "$(names "$d/run")" "$runfiles" "$kind/$name/run holds: $runfiles"
	like "$(get "$d/run/CACHEDIR.TAG")" "^$TAG_SIG" "$kind/$name/run/CACHEDIR.TAG starts with the signature"
	is "$(get "$d/run/state")" "$state" "$kind/$name/run/state is $state"
	is "$(get "$d/run/err")" "" "$kind/$name/run/err is empty"
	like "$(get "$d/run/events")" "$kind/$name created" "$kind/$name/run/events tells it was created"
	like "$(names "$MNT/$kind")" "(^| )$name( |$)" "$kind/ lists $name"
}

# value KIND/NAME/ATTR WANT: exact bytes of an attribute (default).
value() {
	local f=$MNT/$1 want=$2
	is "$(od -An -c "$f" 2>&1 | tr -s ' ')" "$(printf '%b' "$want" | od -An -c | tr -s ' ')" "$1 defaults to '${want%\\n}'"
	is "$(vdc_size "$f")" "$(printf '%b' "$want" | wc -c)" "$1 st_size matches its default"
}

check_object instances web1 "console cpus ctl disk disk-size hostname memory nics power run security-groups snapshots ssh-keys user-data volumes" \
	"CACHEDIR.TAG console cpu cpu-time disk-allocated disk-host disk-read disk-written err events host ip memory-used net-received net-sent progress state uptime" defined
value instances/web1/cpus '1\n'
value instances/web1/memory '512M\n'
value instances/web1/hostname ''
value instances/web1/user-data ''
value instances/web1/power 'off\n'
value instances/web1/ctl ''
for d in nics volumes security-groups ssh-keys; do
	ok "instances/web1/$d/ is an empty folder" sh -c "test -d '$MNT/instances/web1/$d' && test -z \"\$(ls -A '$MNT/instances/web1/$d')\""
done
ok "run/ is a folder" test -d "$MNT/instances/web1/run"
nok "no image link before one is made" test -e "$MNT/instances/web1/image"
for f in cpus memory hostname user-data power ctl; do
	ok "instances/web1/$f is a regular file" test -f "$MNT/instances/web1/$f"
done

check_object images tiny "ctl data run" "CACHEDIR.TAG err events state" available
ok "images/tiny/data is a regular file" test -f "$MNT/images/tiny/data"
is "$(vdc_size "$MNT/images/tiny/data")" 0 "images/tiny/data starts empty"
# An image keeps a sparse file's promises: true size, holes, sparse copies.
truncate -s 64M "$VDC_TMP/sparse.img"
printf 'boot' | dd of="$VDC_TMP/sparse.img" bs=1M seek=32 conv=notrunc status=none
ok "cp --sparse=always a 64M sparse file into images/tiny/data" cp --sparse=always "$VDC_TMP/sparse.img" "$MNT/images/tiny/data"
is "$(vdc_size "$MNT/images/tiny/data")" $((64 << 20)) "data has the true size"
is "$(python3 -c 'import os,sys; f=os.open(sys.argv[1],os.O_RDONLY); print(os.lseek(f,0,os.SEEK_DATA))' "$MNT/images/tiny/data")" \
	$((32 << 20)) "SEEK_DATA finds the data at 32M, past the hole"
ok "cp --sparse=always out of it" cp --sparse=always "$MNT/images/tiny/data" "$VDC_TMP/sparse.out"
ok "the copy holes too: under 1M allocated" test "$(du -k "$VDC_TMP/sparse.out" | cut -f1)" -lt 1024
ok "and holds the same bytes" cmp "$VDC_TMP/sparse.img" "$VDC_TMP/sparse.out"
ok "truncate images/tiny/data to 0 again" truncate -s 0 "$MNT/images/tiny/data"

check_object volumes data1 "ctl data run size snapshots" "CACHEDIR.TAG allocated err events host progress state target" defined
value volumes/data1/size '1G\n'
ok "volumes/data1/snapshots/ is an empty folder" sh -c "test -d '$MNT/volumes/data1/snapshots' && test -z \"\$(ls -A '$MNT/volumes/data1/snapshots')\""
nok "no source link before one is made" test -e "$MNT/volumes/data1/source"
ok "mkdir volumes/data1/snapshots/s1" mkdir "$MNT/volumes/data1/snapshots/s1"
is "$(names "$MNT/volumes/data1/snapshots/s1")" "ctl data run" "a snapshot holds ctl, data and run"
is "$(get "$MNT/volumes/data1/snapshots/s1/run/state")" creating "a snapshot is creating until a storage host takes it"
ok "a snapshot can seed another volume: ln -s ../../volumes/data1/snapshots/s1 source" \
	sh -c "mkdir '$MNT/volumes/seeded' && ln -s ../../volumes/data1/snapshots/s1 '$MNT/volumes/seeded/source'"
is "$(readlink "$MNT/volumes/seeded/source")" ../../volumes/data1/snapshots/s1 "source reads back"
fails_with EBUSY "a snapshot that seeds a volume is not removed" rmdir "$MNT/volumes/data1/snapshots/s1"
fails_with EINVAL "source must name a snapshot" ln -s ../../volumes/data1 "$MNT/volumes/data1/source"
ok "rm source, rmdir seeded, rmdir the snapshot" \
	sh -c "rm '$MNT/volumes/seeded/source' && rmdir '$MNT/volumes/seeded' '$MNT/volumes/data1/snapshots/s1'"

check_object networks net1 "cidr ctl dhcp dns gateway run" "CACHEDIR.TAG dhcp-server err events state vni" defined
value networks/net1/cidr ''
value networks/net1/gateway ''
value networks/net1/dhcp 'on\n'
value networks/net1/dns ''
like "$(get "$MNT/networks/net1/run/vni")" '^[1-9][0-9]*$' "networks/net1/run/vni is its overlay id"
is "$(get "$MNT/networks/net1/run/dhcp-server")" "" "a network without a cidr has no DHCP server address"

check_object security-groups web "ctl rules run" "CACHEDIR.TAG err events state" defined
value security-groups/web/rules ''

check_object ssh-keys admin "ctl public-key run" "CACHEDIR.TAG err events state" defined
value ssh-keys/admin/public-key ''

# A nic is a child object of an instance.
ok "mkdir instances/web1/nics/eth0" mkdir "$MNT/instances/web1/nics/eth0"
is "$(names "$MNT/instances/web1/nics/eth0")" "auto-ip ctl ip mac run" "a new nic holds auto-ip, ctl, ip, mac and run/ (network appears when linked)"
value instances/web1/nics/eth0/ip ''
is "$(names "$MNT/instances/web1/nics/eth0/run")" "CACHEDIR.TAG err events ip mac" "a nic's run/ holds CACHEDIR.TAG err events ip mac"
like "$(get "$MNT/instances/web1/nics/eth0/run/mac")" '^52:54:00(:[0-9a-f]{2}){3}$' "a nic's run/mac is its MAC"
is "$(get "$MNT/instances/web1/nics/eth0/mac")" "$(get "$MNT/instances/web1/nics/eth0/run/mac")" "... written down in its mac when it was made"
value instances/web1/nics/eth0/auto-ip ''
is "$(get "$MNT/instances/web1/nics/eth0/run/ip")" "" "a nic on no network has no address"
fails_with EINVAL "a nic name is checked like any name" mkdir "$MNT/instances/web1/nics/Eth0"

# Names.
ok "a 63-character name is accepted" mkdir "$MNT/instances/$(printf 'a%.0s' $(seq 63))"
ok "digits and '-' after the first letter are accepted" mkdir "$MNT/volumes/a-0-z9"
for bad in Web 1abc a_b "a b" "$(printf 'a%.0s' $(seq 64))" -abc a.b "$(printf 'a\001b')" "$(printf 'a\377b')" "$(printf 'web\tx')" "ünï"; do
	shown=$(printf '%q' "$bad")
	fails_with EINVAL "mkdir instances/$shown is EINVAL" mkdir -- "$MNT/instances/$bad"
	nok "instances/$shown does not exist afterwards" test -e "$MNT/instances/$bad"
	like "$(get "$MNT/run/events" | tail -n 1)" "error: .*name '.*' " "run/events holds a sentence about $shown"
done
like "$(get "$MNT/run/events" | grep -F "'a\\x01b'" | tail -n 1)" "names take only a-z, 0-9 and '-'" \
	"the sentence shows a binary byte escaped and what is accepted"
like "$(get "$MNT/run/events" | grep 'aaaaaaaa' | tail -n 1)" "64 characters" \
	"the sentence for a long name says how long it is"
for kind in images volumes networks security-groups ssh-keys; do
	fails_with EINVAL "mkdir $kind/Bad is EINVAL" mkdir "$MNT/$kind/Bad"
done
fails_with EEXIST "mkdir of an existing object is EEXIST" mkdir "$MNT/instances/web1"

# rmdir.
for obj in images/tiny volumes/data1 networks/net1 security-groups/web ssh-keys/admin instances/web1/nics/eth0 instances/web1; do
	ok "rmdir $obj" rmdir "$MNT/$obj"
	nok "$obj is gone" test -e "$MNT/$obj"
	unlike "$(names "$(dirname "$MNT/$obj")")" "(^| )$(basename "$obj")( |$)" "its folder no longer lists $obj"
done
like "$(get "$MNT/run/events")" "instances/web1 removed" "run/events tells instances/web1 was removed"
ok "mkdir again after rmdir" mkdir "$MNT/instances/web1"
is "$(get "$MNT/instances/web1/cpus")" 1 "a re-made object starts from the defaults"

# The documented way to run it: vdcfs daemonizes, fusermount3 -u stops it.
D=$VDC_TMP/mnt-daemon
mkdir -p "$D"
echo "$D" >> "$VDC_TMP/.mounts"
ok "vdcfs -o state=DIR,allow_other MNT daemonizes and exits 0" \
	"$VDCFS" -o "state=$VDC_TMP/state-daemon,allow_other,listen=127.0.0.1:0" "$D"
ok "the daemonized mount is up" mountpoint -q "$D"
ok "the daemonized mount serves the tree" mkdir "$D/instances/x1"
ok "fusermount3 -u unmounts it" fusermount3 -u "$D"
nok "and it is gone" mountpoint -q "$D"

done_testing
