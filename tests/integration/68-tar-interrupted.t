#!/bin/bash
# A tar x of a data center killed midway (kill -9) and run again completes
# with exit 0 and the same tree as the archive: objects, attributes,
# multi-line values, links and an image's bytes (issue 13, item 5; the
# disks and volumes' bytes need a storage host and are not here).
. "$(dirname "$0")/lib.sh"
MKINSTANCES=${MKINSTANCES:-$VDC_SRC_ROOT/build/mkinstances}
[ -x "$MKINSTANCES" ] || { echo "Bail out! no $MKINSTANCES (make builds it)"; exit 1; }
vdc_start a
vdc_start b
A=$MNT_a
B=$MNT_b

ok "A: 1000 instances" "$MKINSTANCES" "$A/instances" 1000 web
ok "A: an image with 8 MiB of bytes" bash -c "mkdir '$A/images/img' && head -c 8M /dev/urandom > '$A/images/img/data'"
ok "A: a network, a group, a key" bash -c "mkdir '$A/networks/net1' '$A/security-groups/web' '$A/ssh-keys/k' &&
	echo 192.0.2.0/24 > '$A/networks/net1/cidr' && printf 'in tcp 22 sg:web\nin icmp - 192.0.2.0/24\n' > '$A/security-groups/web/rules' &&
	echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@x' > '$A/ssh-keys/k/public-key'"
link_all() {
	local i d
	for i in 0 100 299; do
		d=$A/instances/web$i
		ln -s ../../images/img "$d/image" &&
			mkdir "$d/nics/eth0" &&
			ln -s ../../../../networks/net1 "$d/nics/eth0/network" &&
			ln -s ../../../security-groups/web "$d/security-groups/web" &&
			ln -s ../../../ssh-keys/k "$d/ssh-keys/k" &&
			printf '#cloud-config\nruncmd:\n - echo %s\n' "$i" > "$d/user-data" || return 1
	done
}
ok "A: three instances link them, with user-data" link_all
ok "tar c of A" tar --exclude-caches --sparse -C "$A" -cf "$VDC_TMP/dc.tar" .

# The first tar x is killed once it has written part of the tree.
tar -C "$B" -xf "$VDC_TMP/dc.tar" &
T=$!
vdc_wait 30 test -d "$B/instances/web150"
kill -9 "$T" 2> /dev/null
wait "$T" 2> /dev/null
n=$(ls "$B/instances" | wc -l)
ok "the killed tar x left part of the tree ($n of 1000 instances)" test "$n" -lt 1000 -a "$n" -gt 0
out=$(tar -C "$B" -xf "$VDC_TMP/dc.tar" 2>&1)
is "$?" 0 "tar x run again exits 0${out:+ ($out)}"

# The same tree: every file's content and every link's target (run/ and
# hosts/, the hardware and its join line, are each data center's own).
tree_of() {
	(cd "$1" && find . \( -path '*/run' -o -path ./hosts \) -prune -o -type f -print0 |
		sort -z | xargs -0 sha256sum 2> /dev/null
	find . \( -path '*/run' -o -path ./hosts \) -prune -o -type l -printf '%p -> %l\n' | sort)
}
tree_of "$A" > "$VDC_TMP/a.tree"
tree_of "$B" > "$VDC_TMP/b.tree"
ok "B holds the same files, contents and links as A ($(wc -l < "$VDC_TMP/a.tree") lines)" \
	diff "$VDC_TMP/a.tree" "$VDC_TMP/b.tree"
is "$(sha256sum < "$B/images/img/data")" "$(sha256sum < "$A/images/img/data")" "the image's bytes are the same"
is "$(get "$B/instances/web299/user-data")" "$(get "$A/instances/web299/user-data")" "a multi-line value is whole"

VDC_DONE=1
done_testing
