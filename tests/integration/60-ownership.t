#!/bin/bash
# An object belongs to the uid that made it; other users get EACCES on its
# files; root sees all. The mount is shared with allow_other.
. "$(dirname "$0")/lib.sh"
command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"
vdc_start

# as UID CMD...: run CMD as another user, with no supplementary groups.
as() {
	local uid=$1
	shift
	timeout -k 2 "$VDC_TIMEOUT" setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}
NOBODY=65534
OTHER=65533
T=$MNT/instances/theirs
R=$MNT/instances/roots

ok "root makes instances/roots" mkdir "$R"
ok "root makes images/tiny" mkdir "$MNT/images/tiny"
ok "a non-root user can list the kinds (allow_other)" as $NOBODY ls "$MNT/instances"
ok "a non-root user can mkdir instances/theirs" as $NOBODY mkdir "$T"
is "$(stat -c %u "$T")" $NOBODY "stat -c %u shows their uid"
is "$(stat -c %g "$T")" $NOBODY "stat -c %g shows their gid"
is "$(stat -c %u "$T/cpus")" $NOBODY "their attribute files carry their uid"
is "$(stat -c %u "$T/run/state")" $NOBODY "their run/ files carry their uid"
is "$(stat -c %u "$R")" 0 "root's object belongs to root"
ok "they can write cpus" as $NOBODY bash -c "echo 3 > '$T/cpus'"
ok "they can write memory" as $NOBODY bash -c "echo 1G > '$T/memory'"
is "$(as $NOBODY cat "$T/cpus")" 3 "they read their value back"
fails_with ERANGE "their bad value fails like root's" as $NOBODY bash -c "echo 0 > '$T/cpus'"
like "$(as $NOBODY cat "$T/run/err")" "cpus" "they read the sentence in their run/err"
ok "they can link root's image" as $NOBODY ln -s ../../images/tiny "$T/image"
ok "they can make a nic" as $NOBODY mkdir "$T/nics/eth0"
ok "they can save with sed -i" as $NOBODY sed -i 's/1G/2G/' "$T/memory"
is "$(get "$T/memory")" 2G "the sed -i applied"

# Root's object is closed to them.
fails_with EACCES "they cannot read root's cpus" as $NOBODY cat "$R/cpus"
fails_with EACCES "they cannot list root's object" as $NOBODY ls "$R"
fails_with EACCES "they cannot write root's cpus" as $NOBODY bash -c "echo 4 > '$R/cpus'"
fails_with EACCES "they cannot read root's run/state" as $NOBODY cat "$R/run/state"
fails_with EACCES "they cannot link into root's object" as $NOBODY ln -s ../../images/tiny "$R/image"
fails_with "EPERM|EACCES" "they cannot remove root's object" as $NOBODY rmdir "$R"
ok "root's object is still there" test -d "$R"
fails_with "EPERM|EACCES" "they cannot rename root's object" as $NOBODY mv "$R" "$MNT/instances/mine"
is "$(get "$R/cpus")" 1 "root's cpus is unchanged"
fails_with "EPERM|EACCES" "they cannot rm -r root's object" as $NOBODY rm -rf "$R"
ok "root's object is still there after rm -rf" test -f "$R/cpus"

# A third user: its objects are closed to the second, and links to them too.
ok "another user makes images/other" as $OTHER mkdir "$MNT/images/other"
ok "another user makes volumes/other" as $OTHER mkdir "$MNT/volumes/other"
fails_with EACCES "they cannot link another user's volume" as $NOBODY ln -s ../../../volumes/other "$T/volumes/x"
as $NOBODY rm -f "$T/image"
fails_with EACCES "they cannot link another user's image as their image" as $NOBODY ln -s ../../images/other "$T/image"
like "$(get "$T/run/err")" "belongs to another user" "their run/err says why"
fails_with EACCES "they cannot read another user's object" as $NOBODY cat "$MNT/images/other/run/state"

# Root's images and networks are shared; root's volumes, security groups
# and ssh keys are not (docs/tree.md, "Ownership").
ok "root makes networks/rootnet" mkdir "$MNT/networks/rootnet"
ok "root makes volumes/rootvol" mkdir "$MNT/volumes/rootvol"
ok "root makes security-groups/web" mkdir "$MNT/security-groups/web"
ok "root makes ssh-keys/rootkey" mkdir "$MNT/ssh-keys/rootkey"
ok "they can make a nic for root's network" as $NOBODY mkdir "$T/nics/eth1"
ok "they can link root's network" as $NOBODY ln -s ../../../../networks/rootnet "$T/nics/eth1/network"
fails_with EACCES "they cannot attach root's volume" as $NOBODY ln -s ../../../volumes/rootvol "$T/volumes/rv"
fails_with EACCES "they cannot join root's security group" as $NOBODY ln -s ../../../security-groups/web "$T/security-groups/web"
like "$(get "$T/run/err")" "root's images and networks" "run/err says what root shares"
fails_with EACCES "they cannot use root's ssh key" as $NOBODY ln -s ../../../ssh-keys/rootkey "$T/ssh-keys/k"
fails_with EACCES "root cannot give them root's volume by a link either" ln -s ../../../volumes/rootvol "$T/volumes/rv"
like "$(get "$T/run/err")" "who may not use it" "run/err says whose it is"
ok "root's volume is free to remove" rmdir "$MNT/volumes/rootvol"
ok "root's security group is free to remove" rmdir "$MNT/security-groups/web"

# A link made before its target binds only to an object its holder may use:
# another user who later makes an object of that name keeps it.
V=$MNT/instances/victim
ok "they make instances/att1" as $NOBODY mkdir "$MNT/instances/att1"
ok "they link a volume that does not exist yet" as $NOBODY ln -s ../../../volumes/victimvol "$MNT/instances/att1/volumes/v"
ok "they link a security group that does not exist yet" as $NOBODY ln -s ../../../security-groups/victimsg "$MNT/instances/att1/security-groups/g"
ok "they link an image that does not exist yet" as $NOBODY ln -s ../../images/victimimg "$MNT/instances/att1/image"
ok "they make a nic on a network that does not exist yet" as $NOBODY mkdir "$MNT/instances/att1/nics/eth0"
ok "they link it" as $NOBODY ln -s ../../../../networks/victimnet "$MNT/instances/att1/nics/eth0/network"
ok "another user makes networks/victimnet" as $OTHER mkdir "$MNT/networks/victimnet"
ok "she gives it a cidr" as $OTHER bash -c "echo 192.0.2.0/24 > '$MNT/networks/victimnet/cidr'"
is "$(get "$MNT/instances/att1/nics/eth0/run/ip")" "" "their nic got no address on her network"
ok "she can remove her network" as $OTHER rmdir "$MNT/networks/victimnet"
ok "another user makes volumes/victimvol" as $OTHER mkdir "$MNT/volumes/victimvol"
ok "another user makes security-groups/victimsg" as $OTHER mkdir "$MNT/security-groups/victimsg"
ok "another user makes images/victimimg" as $OTHER mkdir "$MNT/images/victimimg"
ok "another user makes instances/victim" as $OTHER mkdir "$V"
ok "she attaches her volume to her instance" as $OTHER ln -s ../../../volumes/victimvol "$V/volumes/data"
ok "she joins her instance to her group" as $OTHER ln -s ../../../security-groups/victimsg "$V/security-groups/g"
ok "she detaches it again" as $OTHER rm "$V/volumes/data"
ok "she removes her group from her instance" as $OTHER rm "$V/security-groups/g"
ok "she can remove her volume (the early link holds nothing)" as $OTHER rmdir "$MNT/volumes/victimvol"
ok "she can remove her group" as $OTHER rmdir "$MNT/security-groups/victimsg"
ok "she can remove her image" as $OTHER rmdir "$MNT/images/victimimg"
ok "another user makes images/victimimg again" as $OTHER mkdir "$MNT/images/victimimg"
ok "they power att1 on" as $NOBODY bash -c "echo on > '$MNT/instances/att1/power'"
like "$(get "$MNT/instances/att1/run/err")" "image victimimg belongs to another user" "att1's run/err says the image is not theirs"
ok "they power att1 off" as $NOBODY bash -c "echo off > '$MNT/instances/att1/power'"
ok "they remove att1" as $NOBODY rm -rf "$MNT/instances/att1"
ok "she removes her image and instance" as $OTHER rmdir "$MNT/images/victimimg" "$V"

# Root sees all.
is "$(get "$T/cpus")" 3 "root can read theirs"
ok "root can write theirs" put 4 "$T/cpus"
is "$(as $NOBODY cat "$T/cpus")" 4 "they see root's write"
ok "root can read another user's object" test -f "$MNT/images/other/data"

# Nothing outside objects is theirs to make.
fails_with "EPERM|EACCES" "they cannot mkdir in the root" as $NOBODY mkdir "$MNT/mine"
fails_with "EPERM|EACCES" "they cannot create a file in instances/" as $NOBODY touch "$MNT/instances/file"
fails_with "EPERM|EACCES" "they cannot write run/events" as $NOBODY bash -c "echo x > '$MNT/run/events'"

# Ownership is kept across a remount.
vdc_restart
is "$(stat -c %u "$T")" $NOBODY "their object is still theirs after a remount"
is "$(stat -c %u "$MNT/images/other")" $OTHER "the other user's image too"
fails_with EACCES "root's object is still closed to them" as $NOBODY cat "$R/cpus"
ok "they can remove their own object" as $NOBODY rm -rf "$T"
nok "it is gone" test -e "$T"
ok "the other user removes theirs" as $OTHER rmdir "$MNT/images/other" "$MNT/volumes/other"

done_testing
