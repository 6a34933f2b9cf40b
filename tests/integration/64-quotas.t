#!/bin/bash
# Quotas per user: root makes quotas/USER; a user's mkdir, writes and a
# chown to them that would grow their use past a limit fail with EDQUOT
# and a sentence; lowering a quota touches nothing; the user reads their
# quota and cannot change it; it survives a remount.
. "$(dirname "$0")/lib.sh"
command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"
getent passwd nobody > /dev/null || skip_all "this machine has no user nobody"
vdc_start

# as UID CMD...: run CMD as another user, with no supplementary groups.
as() {
	local uid=$1
	shift
	timeout -k 2 "$VDC_TIMEOUT" setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}
NOBODY=$(id -u nobody)
OTHER=65533
Q=$MNT/quotas/nobody
I=$MNT/instances

ok "root makes quotas/nobody" mkdir "$Q"
is "$(stat -c %u "$Q")" "$NOBODY" "the quota belongs to the user it limits"
is "$(get "$Q/instances")" none "a limit defaults to none"
is "$(get "$Q/run/state")" active "run/state is active"
ok "root sets instances 2" put 2 "$Q/instances"
ok "root sets cpus 3" put 3 "$Q/cpus"
ok "root sets memory 1G" put 1G "$Q/memory"
ok "root sets volume-size 100M" put 100M "$Q/volume-size"
fails_with EINVAL "a limit that is no number fails" put lots "$Q/cpus"
like "$(get "$Q/run/err")" "or none for no limit" "run/err says none is accepted too"
fails_with EINVAL "memory takes whole MiB" put 1000 "$Q/memory"
is "$(get "$Q/cpus")" 3 "the refused writes kept cpus"

# Instances: the count, and cpus and memory summed over all of them.
ok "nobody makes a first instance" as "$NOBODY" mkdir "$I/a"
ok "nobody makes a second instance" as "$NOBODY" mkdir "$I/b"
fails_with EDQUOT "the third mkdir fails with EDQUOT" as "$NOBODY" mkdir "$I/c"
nok "it was not made" test -e "$I/c"
like "$(get "$MNT/run/events")" "instances quota of nobody exceeded: the limit is 2, 2 in use, 3 after this change" \
	"run/events says which quota, its limit and the use"
is "$(as "$NOBODY" cat "$Q/run/instances")" 2 "run/instances shows 2"
is "$(as "$NOBODY" cat "$Q/run/cpus")" 2 "run/cpus shows 2 (1 each)"
is "$(as "$NOBODY" cat "$Q/run/memory")" 1G "run/memory shows 1G (512M each)"
m0=$(vdc_mtime "$Q/run/cpus")
sleep 0.01
ok "cpus 2 on the first fits (3 of 3)" as "$NOBODY" bash -c "echo 2 > '$I/a/cpus'"
isnt "$(vdc_mtime "$Q/run/cpus")" "$m0" "the mtime of run/cpus moved with the use"
fails_with EDQUOT "cpus 2 on the second (4 of 3) fails" as "$NOBODY" bash -c "echo 2 > '$I/b/cpus'"
is "$(get "$I/b/cpus")" 1 "the old cpus is kept"
like "$(as "$NOBODY" cat "$I/b/run/err")" "cpus quota of nobody exceeded: the limit is 3, 3 in use, 4 after this change" \
	"run/err of the instance says which quota, its limit and the use"
fails_with EDQUOT "memory 1G on the first (1536M of 1G) fails" as "$NOBODY" bash -c "echo 1G > '$I/a/memory'"
is "$(get "$I/a/memory")" 512M "the old memory is kept"
like "$(get "$I/a/run/err")" "memory quota of nobody exceeded: the limit is 1G, 1G in use, 1536M after this change" \
	"the memory sentence"
ok "a smaller memory passes" as "$NOBODY" bash -c "echo 256M > '$I/a/memory'"
ok "sed -i of cpus within the quota passes" as "$NOBODY" sed -i 's/2/1/' "$I/a/cpus"
is "$(get "$Q/run/cpus")" 2 "run/cpus follows the writes"

# Volumes: mkdir takes the default size (1G); size writes and chown.
fails_with EDQUOT "a volume of 1G (the default) over 100M fails" as "$NOBODY" mkdir "$MNT/volumes/big"
like "$(get "$MNT/run/events")" "volume-size quota of nobody exceeded: the limit is 100M, 0 in use, 1G after this change" \
	"the volume sentence"
ok "root makes volumes/small" mkdir "$MNT/volumes/small"
ok "root sizes it 64M" put 64M "$MNT/volumes/small/size"
ok "root gives it to nobody (64M of 100M)" chown nobody "$MNT/volumes/small"
is "$(get "$Q/run/volume-size")" 64M "run/volume-size shows 64M"
fails_with EDQUOT "nobody grows it to 200M: EDQUOT" as "$NOBODY" bash -c "echo 200M > '$MNT/volumes/small/size'"
is "$(get "$MNT/volumes/small/size")" 64M "its size is kept"
ok "nobody grows it to 100M: fits" as "$NOBODY" bash -c "echo 100M > '$MNT/volumes/small/size'"
# An instance's root disk takes storage as a volume does.
fails_with EDQUOT "nobody's instance a with a disk-size of 1M (100M of 100M in use): EDQUOT" \
	as "$NOBODY" bash -c "echo 1M > '$I/a/disk-size'"
is "$(get "$I/a/disk-size")" "" "its disk-size is kept"
ok "nobody shrinks the volume back to 64M" as "$NOBODY" bash -c "echo 64M > '$MNT/volumes/small/size'"
ok "... then a disk-size of 16M fits" as "$NOBODY" bash -c "echo 16M > '$I/a/disk-size'"
is "$(get "$Q/run/volume-size")" 80M "run/volume-size counts the disk (64M + 16M)"
ok "nobody grows the volume to 84M: fits" as "$NOBODY" bash -c "echo 84M > '$MNT/volumes/small/size'"
fails_with EDQUOT "... to 85M: EDQUOT (the disk counts)" as "$NOBODY" bash -c "echo 85M > '$MNT/volumes/small/size'"
ok "nobody empties disk-size (no disk is made: no storage host)" as "$NOBODY" bash -c ": > '$I/a/disk-size'"
ok "... and grows the volume to 100M again" as "$NOBODY" bash -c "echo 100M > '$MNT/volumes/small/size'"
ok "root makes volumes/other (1G)" mkdir "$MNT/volumes/other"
fails_with EDQUOT "chown of a 1G volume to nobody fails" chown nobody "$MNT/volumes/other"
is "$(stat -c %u "$MNT/volumes/other")" 0 "it stays root's"
ok "root makes instances/r (root is never limited)" mkdir "$I/r"
fails_with EDQUOT "chown of a third instance to nobody fails" chown nobody "$I/r"
ok "root makes more instances than any quota" mkdir "$I/r2" "$I/r3"

# The user reads their quota and cannot change it; others cannot read it.
is "$(as "$NOBODY" cat "$Q/instances")" 2 "nobody reads their own quota"
fails_with EACCES "nobody cannot write their quota" as "$NOBODY" bash -c "echo 9 > '$Q/instances'"
fails_with EACCES "nobody cannot clear it through ctl" as "$NOBODY" bash -c "echo clear > '$Q/ctl'"
fails_with EACCES "nobody cannot remove it" as "$NOBODY" rmdir "$Q"
fails_with EACCES "nobody cannot rename it" as "$NOBODY" mv "$Q" "$MNT/quotas/gone"
fails_with EACCES "nobody cannot make a quota" as "$NOBODY" mkdir "$MNT/quotas/daemon"
fails_with EACCES "another user cannot read it" as "$OTHER" cat "$Q/instances"
is "$(get "$Q/instances")" 2 "the quota is unchanged"
fails_with EPERM "root cannot rename a quota" mv "$Q" "$MNT/quotas/daemon"
fails_with EPERM "root cannot give a quota to another user" chown daemon "$Q"

# Lowering a quota touches nothing: only growth is refused.
ok "root lowers instances to 1" put 1 "$Q/instances"
ok "root lowers cpus to 1" put 1 "$Q/cpus"
ok "the first instance stays" test -d "$I/a"
ok "the second instance stays" test -d "$I/b"
is "$(get "$Q/run/instances")" 2 "run/instances shows 2, over the limit of 1"
fails_with EDQUOT "a new instance still fails" as "$NOBODY" mkdir "$I/c"
fails_with EDQUOT "a cp -r of an instance fails too" as "$NOBODY" cp -r "$I/a" "$I/c"
ok "writing the same cpus again passes while over the limit" as "$NOBODY" bash -c "echo 1 > '$I/b/cpus'"
ok "shrinking passes while over the limit" as "$NOBODY" bash -c "echo 64M > '$I/b/memory'"

# A remount keeps the quota.
vdc_restart
is "$(get "$Q/instances")" 1 "instances is 1 after a remount"
is "$(get "$Q/cpus")" 1 "cpus is 1 after a remount"
is "$(stat -c %u "$Q")" "$NOBODY" "it still belongs to nobody"
fails_with EDQUOT "the quota holds after a remount" as "$NOBODY" mkdir "$I/c"
ok "nobody removes an instance" as "$NOBODY" rmdir "$I/b"
is "$(get "$Q/run/instances")" 1 "run/instances shows 1"

# Names: only users, never root, one quota a user.
fails_with ENOENT "a quota for a name that is no user fails" mkdir "$MNT/quotas/no-such-user-here"
like "$(get "$MNT/run/events")" "no user is named no-such-user-here" "run/events says why"
fails_with EINVAL "a quota for root fails" mkdir "$MNT/quotas/root"
nok "neither was made" test -e "$MNT/quotas/no-such-user-here" -o -e "$MNT/quotas/root"

# tar carries a quota to another data center (restored by root, where the user exists).
vdc_start b
ok "tar x of quotas/ into a fresh mount" bash -c "tar -C '$MNT' -cf - quotas | tar -C '$MNT_b' -xf -"
is "$(get "$MNT_b/quotas/nobody/cpus")" 1 "the restored quota holds its limits"
is "$(stat -c %u "$MNT_b/quotas/nobody")" "$NOBODY" "and belongs to its user"

ok "root removes the quota" rmdir "$Q"
ok "nobody makes instances freely again" as "$NOBODY" mkdir "$I/c" "$I/d"
ok "clean up" rm -rf "$I/a" "$I/c" "$I/d" "$I/r" "$I/r2" "$I/r3" "$MNT/volumes/small" "$MNT/volumes/other"

done_testing
