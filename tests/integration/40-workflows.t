#!/bin/bash
# The workflows of DESIGN.md rule 9, unchanged: sed -i and editors, cp -r,
# tar c/x into another mount, rsync -a, find, grep -r, ls -lR, stat, tail,
# cp of image data and sparse data files.
. "$(dirname "$0")/lib.sh"
vdc_start

I=$MNT/instances/web1
# The entries of an instance with no links, for "nothing was left behind".
PLAIN="console cpus ctl disk disk-size hostname memory nics power run security-groups snapshots ssh-keys user-data volumes"
entries() { timeout 10 ls -A "$1" | tr '\n' ' ' | sed 's/ $//'; }

mkdir "$I"

# ---- sed -i: a temporary file renamed onto the attribute ----
ok "sed -i 's/512M/2G/' memory" sed -i 's/512M/2G/' "$I/memory"
is "$(get "$I/memory")" 2G "memory is 2G"
is "$(entries "$I")" "$PLAIN" "sed -i left no temporary file behind"
is "$(vdc_size "$I/memory")" 3 "st_size follows the new value"
like "$(get "$I/run/events")" "memory = 2G" "the change is logged"

# Readers during many sed -i never see an empty or partial value, and a
# read never fails.
sed_reader() {
	local badval=0 errors=0 n v
	for n in $(seq 1 3000); do
		[ ! -e "$VDC_TMP/sed.done" ] || break
		if v=$(cat "$I/memory" 2> "$VDC_TMP/reader$1.err"); then
			case $v in 2G | 4G) ;; *) badval=$((badval + 1)); echo "read $n: '$v'" >> "$VDC_TMP/reader.log" ;; esac
		else
			errors=$((errors + 1))
			echo "read $n failed: $(cat "$VDC_TMP/reader$1.err")" >> "$VDC_TMP/reader.log"
		fi
	done
	echo "$badval $errors" > "$VDC_TMP/reader$1.result"
}
sed_reader 1 &
r1=$!
sed_reader 2 &
r2=$!
sed_reader 3 &
r3=$!
fails=0
for n in $(seq 1 60); do
	sed -i 's/2G/4G/' "$I/memory" || fails=$((fails + 1))
	sed -i 's/4G/2G/' "$I/memory" || fails=$((fails + 1))
done
touch "$VDC_TMP/sed.done"
wait $r1 $r2 $r3
touch "$VDC_TMP/reader.log"
read -r bad1 err1 < "$VDC_TMP/reader1.result"
read -r bad2 err2 < "$VDC_TMP/reader2.result"
read -r bad3 err3 < "$VDC_TMP/reader3.result"
is "$fails" 0 "120 sed -i in a row all succeed"
is "$((bad1 + bad2 + bad3))" 0 "readers during sed -i never see an empty or partial value" ||
	diag "$(grep -v failed "$VDC_TMP/reader.log" | head -n 5)"
is "$((err1 + err2 + err3))" 0 "no read during sed -i fails" ||
	diag "$(grep failed "$VDC_TMP/reader.log" | sort | uniq -c | sort -rn | head -n 3)"
is "$(entries "$I")" "$PLAIN" "no temporary file is left after 120 sed -i"

# ---- an editor's save: temp file in the same folder, then rename ----
ok "write a temporary file next to memory" put 1G "$I/.memory.tmp"
is "$(get "$I/.memory.tmp")" 1G "the temporary file reads back"
ok "mv the temporary file onto memory" mv "$I/.memory.tmp" "$I/memory"
is "$(get "$I/memory")" 1G "memory took the saved value"
nok "the temporary file is gone" test -e "$I/.memory.tmp"
put banana "$I/.memory.tmp"
nok "a bad value saved by rename fails the rename" mv "$I/.memory.tmp" "$I/memory"
is "$(get "$I/memory")" 1G "memory keeps the old value"
like "$(get "$I/run/err")" "banana" "run/err names the refused value"
ok "the rejected temporary file can be removed" rm "$I/.memory.tmp"
is "$(entries "$I")" "$PLAIN" "nothing is left behind"
ok "an editor backup (mv memory memory~) keeps a copy" mv "$I/memory" "$I/memory~"
is "$(get "$I/memory~")" 1G "the backup holds the value"
put 4G "$I/memory.new"
ok "a new memory is renamed in" mv "$I/memory.new" "$I/memory"
is "$(get "$I/memory")" 4G "memory holds the new value"
ok "the backup is removed" rm "$I/memory~"
is "$(entries "$I")" "$PLAIN" "the folder is back to its entries"

# An attribute keeps its inode number (docs: inode numbers are stable).
ino0=$(vdc_ino "$I/memory")
sed -i 's/4G/2G/' "$I/memory"
ino1=$(vdc_ino "$I/memory")
sleep 1.1
ino2=$(vdc_ino "$I/memory")
is "$ino2" "$ino0" "memory has its own inode number again once the kernel's entry expired"
is "$ino1" "$ino2" "two stats of memory after sed -i, 1 s apart, give the same inode number"

if command -v ex > /dev/null; then
	put 512M "$I/memory"
	mkdir -p "$VDC_TMP/home"
	ok "ex -sc '%s/512M/1G/|x' memory" env HOME="$VDC_TMP/home" ex -i NONE -sc '%s/512M/1G/|x' "$I/memory"
	is "$(get "$I/memory")" 1G "the editor's save applied"
	is "$(entries "$I")" "$PLAIN" "the editor left no swap file behind"
	put 2G "$I/memory"
	env HOME="$VDC_TMP/home" ex -i NONE -sc '%s/2G/lots/|x' "$I/memory" > /dev/null 2>&1 < /dev/null
	is "$(get "$I/memory")" 2G "an editor saving a bad value leaves the old value"
	rm -f "$I/.memory.swp" 2> /dev/null
else
	skip "no ex/vim installed"
	skip "no ex/vim installed"
	skip "no ex/vim installed"
	skip "no ex/vim installed"
fi

# ---- a populated data center ----
mkdir "$MNT/images/tiny" "$MNT/volumes/data1" "$MNT/volumes/logs" "$MNT/networks/net1" \
	"$MNT/security-groups/web" "$MNT/ssh-keys/admin"
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom > "$VDC_TMP/tiny.img"
ok "cp an image into images/tiny/data" cp "$VDC_TMP/tiny.img" "$MNT/images/tiny/data"
ok "cmp shows the same bytes" cmp "$VDC_TMP/tiny.img" "$MNT/images/tiny/data"
is "$(vdc_size "$MNT/images/tiny/data")" $((3 * 1024 * 1024 + 17)) "data has the true size"
put 10.0.0.0/24 "$MNT/networks/net1/cidr"
put 10.0.0.1 "$MNT/networks/net1/gateway"
put "192.0.2.53" "$MNT/networks/net1/dns"
printf 'in tcp 22 0.0.0.0/0\nin tcp 80 0.0.0.0/0\nin tcp 5432 sg:web\n' | putb "$MNT/security-groups/web/rules"
put 20G "$MNT/volumes/data1/size"
put "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test" "$MNT/ssh-keys/admin/public-key"
put 4 "$I/cpus"
put 2G "$I/memory"
put web1.example.com "$I/hostname"
printf '#cloud-config\npackages:\n  - nginx\n' | putb "$I/user-data"
ln -s ../../images/tiny "$I/image"
ln -s ../../../volumes/data1 "$I/volumes/data"
ln -s ../../../volumes/logs "$I/volumes/logs"
ln -s ../../../security-groups/web "$I/security-groups/web"
ln -s ../../../ssh-keys/admin "$I/ssh-keys/admin"
mkdir "$I/nics/eth0"
ln -s ../../../../networks/net1 "$I/nics/eth0/network"
is "$(get "$MNT/ssh-keys/admin/public-key" | cut -d' ' -f1)" ssh-ed25519 "the data center is populated"

# ---- cp -r of an instance ----
# A volume is attached to one instance at a time, so the copy's volume
# links are refused (EBUSY) and everything else is copied.
nok "cp -r instances/web1 instances/web2 refuses the volume links" cp -r "$I" "$MNT/instances/web2"
is "$(ls "$MNT/instances/web2/volumes")" "" "the copy has no volumes"
like "$(get "$MNT/instances/web2/run/err")" "^volume (data1|logs) is attached to instance web1 already" "run/err says why"
ok "diff -r --exclude=run --exclude=volumes web1 web2 is empty" \
	diff -r --no-dereference --exclude=run --exclude=volumes "$I" "$MNT/instances/web2"
is "$(readlink "$MNT/instances/web2/nics/eth0/network")" ../../../../networks/net1 "the copy's nic links the network"
is "$(get "$MNT/instances/web2/user-data")" "$(get "$I/user-data")" "the copy has the user-data"
is "$(get "$MNT/instances/web2/run/state")" defined "the copy is a new defined instance"
ok "rsync -a --exclude=volumes/ instances/web1 to web3" \
	rsync -a --exclude=run/ --exclude=volumes/ "$I/" "$MNT/instances/web3/"
ok "diff -r web1 web3 is empty but for volumes" diff -r --no-dereference --exclude=run --exclude=volumes "$I" "$MNT/instances/web3"
put 8 "$MNT/instances/web3/cpus"
nok "diff notices a changed value (the comparison is not vacuous)" \
	diff -r --no-dereference --exclude=run --exclude=volumes "$I" "$MNT/instances/web3"
ok "rm -rf instances/web3" rm -rf "$MNT/instances/web3"
nok "web3 is gone" test -e "$MNT/instances/web3"

# ---- tar into another, fresh data center ----
vdc_start b
ok "tar --exclude-caches -C MNT -cf dc.tar ." tar --exclude-caches -C "$MNT" -cf "$VDC_TMP/dc.tar" .
unlike "$(tar -tf "$VDC_TMP/dc.tar")" "run/(state|events|err)" "the archive holds no live state"
is "$(tar -tf "$VDC_TMP/dc.tar" | grep '^\./hosts/.' | grep -v '/CACHEDIR.TAG$')" "" "the archive holds nothing of hosts/ but its tag"
ok "tar -C MNT2 -xf dc.tar into a fresh mount" tar -C "$MNT_b" -xf "$VDC_TMP/dc.tar"
ok "diff -r --exclude=run --exclude=hosts MNT MNT2 is empty" diff -r --no-dereference --exclude=run --exclude=hosts "$MNT" "$MNT_b"
ok "cmp the image data" cmp "$MNT/images/tiny/data" "$MNT_b/images/tiny/data"
is "$(get "$MNT_b/instances/web1/run/state")" defined "restored instances are defined"
is "$(get "$MNT_b/networks/net1/gateway")" 10.0.0.1 "the network's gateway came along (after its cidr)"
fails_with EBUSY "restored links count as references" rmdir "$MNT_b/volumes/data1"
ok "a second tar x over the same tree exits 0" tar -C "$MNT_b" -xf "$VDC_TMP/dc.tar"
ok "and the trees are still the same" diff -r --no-dereference --exclude=run --exclude=hosts "$MNT" "$MNT_b"

# Restoring a backup over a live tree brings back every value, empty ones too.
mkdir "$MNT_b/instances/plain"
ok "tar c of an object at its defaults" tar --exclude-caches -C "$MNT_b" -cf "$VDC_TMP/plain.tar" instances/plain
put 8 "$MNT_b/instances/plain/cpus"
put changed.example.com "$MNT_b/instances/plain/hostname"
printf 'runcmd: []\n' | putb "$MNT_b/instances/plain/user-data"
ok "tar x of the backup over the changed object" tar -C "$MNT_b" -xf "$VDC_TMP/plain.tar"
is "$(get "$MNT_b/instances/plain/cpus")" 1 "cpus is restored"
is "$(get "$MNT_b/instances/plain/hostname")|$(get "$MNT_b/instances/plain/user-data")" "|" \
	"hostname and user-data are restored to empty"

# ---- rsync into a third ----
vdc_start c
ok "rsync -a --exclude=run/ --exclude=/hosts/ MNT/ MNT3/" rsync -a --exclude=run/ --exclude=/hosts/ "$MNT/" "$MNT_c/"
ok "diff -r --exclude=run --exclude=hosts MNT MNT3 is empty" diff -r --no-dereference --exclude=run --exclude=hosts "$MNT" "$MNT_c"
ok "cmp the image data" cmp "$MNT/images/tiny/data" "$MNT_c/images/tiny/data"
ok "a second rsync exits 0" rsync -a --exclude=run/ --exclude=/hosts/ "$MNT/" "$MNT_c/"
ok "and the trees are still the same" diff -r --no-dereference --exclude=run --exclude=hosts "$MNT" "$MNT_c"
put 16 "$I/cpus"
put 'in tcp 443 0.0.0.0/0' "$MNT/security-groups/web/rules"
mkdir "$MNT/instances/web4"
ok "rsync after changes exits 0" rsync -a --exclude=run/ --exclude=/hosts/ "$MNT/" "$MNT_c/"
is "$(get "$MNT_c/instances/web1/cpus")" 16 "the changed value arrived"
ok "the new instance arrived" test -f "$MNT_c/instances/web4/cpus"
ok "the trees are the same again" diff -r --no-dereference --exclude=run --exclude=hosts "$MNT" "$MNT_c"
ok "rsync -a --checksum exits 0" rsync -a --checksum --exclude=run/ --exclude=/hosts/ "$MNT/" "$MNT_c/"

# ---- tools that walk the tree never hang ----
ok "find MNT" find "$MNT"
is "$(timeout 20 find "$MNT" -name network | sort | tr '\n' ' ')" \
	"$MNT/instances/web1/nics/eth0/network $MNT/instances/web2/nics/eth0/network " "find descends into every folder"
ok "find -type f -newer works" find "$MNT/instances" -type f -newer "$VDC_TMP/dc.tar"
ok "grep -r 2G MNT/instances finds memory" sh -c "grep -r 2G '$MNT/instances' | grep -q 'web2/memory:2G'"
ok "grep -r over the whole mount" grep -r -q nginx "$MNT"
ok "ls -lR MNT" ls -lR "$MNT"
ok "stat of every file" sh -c "find '$MNT' -print0 | xargs -0 stat > /dev/null"
ok "du -s MNT" du -s "$MNT"
ok "wc -c of every regular file" sh -c "find '$MNT' -type f -print0 | xargs -0 wc -c > /dev/null"
is "$(timeout 10 tail -n 5 "$MNT/run/events" | wc -l | tr -d ' ')" 5 "tail -n 5 run/events gives 5 lines"
is "$(timeout 10 tail -n 2 "$I/run/events" | wc -l | tr -d ' ')" 2 "tail -n 2 of an object's run/events"
ok "tail -f run/events can be started and stopped" sh -c "timeout 2 tail -f '$MNT/run/events' > /dev/null; test \$? = 124"
# tail -f keeps the file open and must see what is logged after it started.
timeout 4 tail -n 0 -f "$MNT/run/events" > "$VDC_TMP/tailf.out" &
tailf=$!
sleep 1
mkdir "$MNT/instances/tailf-probe"
sleep 2
wait "$tailf" 2>/dev/null
like "$(cat "$VDC_TMP/tailf.out")" "instances/tailf-probe created" "tail -f run/events follows a new event"
rmdir "$MNT/instances/tailf-probe"

# ---- data files: cp, cmp, sparse ----
mkdir "$MNT/images/big"
head -c 1000000 /dev/urandom > "$VDC_TMP/small.img"
ok "cp a file over images/big/data" cp "$VDC_TMP/small.img" "$MNT/images/big/data"
ok "cmp" cmp "$VDC_TMP/small.img" "$MNT/images/big/data"
ok "cat > data appends nothing stale" sh -c "head -c 100 /dev/zero > '$MNT/images/big/data'"
is "$(vdc_size "$MNT/images/big/data")" 100 "a shorter copy truncates the data"
mkdir "$MNT/images/sparse"
D=$MNT/images/sparse/data
ok "truncate -s 1G data" truncate -s 1G "$D"
ok "write 1 MiB at offset 100M" dd if="$VDC_TMP/small.img" of="$D" bs=1M count=1 seek=100 conv=notrunc iflag=fullblock status=none
is "$(vdc_size "$D")" 1073741824 "st_size is 1 GiB"
blocks=$(stat -c %b "$D")
ok "st_blocks stays small ($blocks blocks of 512)" test "$blocks" -lt 8192
start=$(date +%s%N)
ok "tar --sparse of the data file" tar --sparse -C "$MNT" -cf "$VDC_TMP/sparse.tar" images/sparse/data
ms=$((($(date +%s%N) - start) / 1000000))
ok "tar --sparse took ${ms} ms (< 5000)" test "$ms" -lt 5000
size=$(stat -c %s "$VDC_TMP/sparse.tar")
ok "the sparse archive is small ($size bytes)" test "$size" -lt $((4 * 1024 * 1024))
mkdir -p "$VDC_TMP/unpack"
ok "the archive unpacks" tar --sparse -C "$VDC_TMP/unpack" -xf "$VDC_TMP/sparse.tar"
is "$(stat -c %s "$VDC_TMP/unpack/images/sparse/data")" 1073741824 "the unpacked file is 1 GiB"
ok "the data file holds the written bytes at 100M" cmp -n 1000000 -i 0:104857600 "$VDC_TMP/small.img" "$D"
ok "the unpacked file holds them too" cmp -n 1000000 -i 0:104857600 "$VDC_TMP/small.img" "$VDC_TMP/unpack/images/sparse/data"

done_testing
