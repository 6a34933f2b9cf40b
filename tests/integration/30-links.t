#!/bin/bash
# Relations are relative symlinks: image, volumes/NAME, security-groups/NAME,
# ssh-keys/NAME, nics/NAME/network. Wrong kinds and links leaving the tree
# are refused; referenced objects cannot be removed.
. "$(dirname "$0")/lib.sh"
vdc_start

for o in images/tiny volumes/data1 volumes/data2 volumes/data3 networks/net1 security-groups/web ssh-keys/admin instances/web1 instances/web2; do
	mkdir "$MNT/$o" || { echo "Bail out! mkdir $o failed"; exit 1; }
done
W=$MNT/instances/web1
# An empty key cannot be linked (docs/tree.md, "Limits").
put "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test" "$MNT/ssh-keys/admin/public-key"

# ---- the relation links ----
ok "ln -s ../../images/tiny instances/web1/image" ln -s ../../images/tiny "$W/image"
ok "image is a symlink" test -L "$W/image"
is "$(readlink "$W/image")" ../../images/tiny "readlink shows the relative text"
is "$(get "$W/image/run/state")" available "the link resolves to the image"
like "$(ls -l "$W" | grep ' image ')" "image -> \.\./\.\./images/tiny" "ls -l shows the link"
like "$(get "$W/run/events")" "image -> images/tiny" "run/events logs the link"

ok "ln -s ../../../volumes/data1 volumes/data" ln -s ../../../volumes/data1 "$W/volumes/data"
is "$(readlink "$W/volumes/data")" ../../../volumes/data1 "readlink volumes/data"
is "$(get "$W/volumes/data/size")" 1G "volumes/data resolves to the volume"
ok "ln -s ../../../security-groups/web security-groups/web" ln -s ../../../security-groups/web "$W/security-groups/web"
is "$(readlink "$W/security-groups/web")" ../../../security-groups/web "readlink security-groups/web"
ok "security-groups/web resolves" test -f "$W/security-groups/web/rules"
ok "ln -s ../../../ssh-keys/admin ssh-keys/admin" ln -s ../../../ssh-keys/admin "$W/ssh-keys/admin"
is "$(readlink "$W/ssh-keys/admin")" ../../../ssh-keys/admin "readlink ssh-keys/admin"
ok "ssh-keys/admin resolves" test -f "$W/ssh-keys/admin/public-key"
is "$(ls "$W/volumes" | tr '\n' ' ')" "data " "volumes/ lists the link"

ok "mkdir nics/eth0" mkdir "$W/nics/eth0"
ok "ln -s ../../../../networks/net1 nics/eth0/network" ln -s ../../../../networks/net1 "$W/nics/eth0/network"
is "$(readlink "$W/nics/eth0/network")" ../../../../networks/net1 "readlink nics/eth0/network"
is "$(get "$W/nics/eth0/network/dhcp")" on "the nic's network resolves"
is "$(ls "$W/nics/eth0" | tr '\n' ' ')" "auto-ip ctl ip mac network run " "the nic lists auto-ip, ctl, ip, mac, network and run"

# ---- refused links ----
fails_with EINVAL "image -> a volume (wrong kind) is refused" ln -s ../../volumes/data1 "$MNT/instances/web2/image"
like "$(get "$MNT/instances/web2/run/err")" "does not name an object in images/" "run/err says what the link must name"
fails_with EINVAL "volumes/x -> an image (wrong kind) is refused" ln -s ../../../images/tiny "$W/volumes/x"
fails_with EINVAL "security-groups/x -> a network (wrong kind) is refused" ln -s ../../../networks/net1 "$W/security-groups/x"
ok "mkdir nics/eth1" mkdir "$W/nics/eth1"
fails_with EINVAL "nics/eth1/network -> a volume (wrong kind) is refused" ln -s ../../../../volumes/data1 "$W/nics/eth1/network"
fails_with EINVAL "a link with the wrong depth is refused" ln -s ../images/tiny "$MNT/instances/web2/image"
fails_with EXDEV "image -> ../../../../etc (outside the tree) is refused" ln -s ../../../../etc "$MNT/instances/web2/image"
fails_with EXDEV "volumes/x -> ../../../../etc is refused" ln -s ../../../../etc "$W/volumes/x"
fails_with EXDEV "volumes/x -> /etc/passwd is refused" ln -s /etc/passwd "$W/volumes/x"
fails_with EXDEV "image -> /etc is refused" ln -s /etc "$MNT/instances/web2/image"
like "$(get "$MNT/instances/web2/run/err")" "outside the tree" "run/err says the link points outside the tree"
nok "no refused link was left behind" test -L "$MNT/instances/web2/image"
is "$(ls "$W/volumes" | tr '\n' ' ')" "data " "volumes/ holds only the good link"
fails_with EPERM "an attribute that is not a relation cannot be a link" ln -s ../../images/tiny "$W/kernel"
fails_with EEXIST "a second image link is refused" ln -sn ../../images/tiny "$W/image"
fails_with EINVAL "a link name outside the name rules is refused" ln -s ../../../volumes/data2 "$W/volumes/Data"
fails_with "EPERM|EACCES" "links are not made in a kind folder" ln -s ../images/tiny "$MNT/instances/link"

# ---- absolute links into the mount ----
ok "an absolute link into the mount is accepted" ln -s "$MNT/images/tiny" "$MNT/instances/web2/image"
is "$(readlink "$MNT/instances/web2/image")" ../../images/tiny "and reads back relative"
ok "an absolute volume link into the mount is accepted" ln -s "$MNT/volumes/data3" "$MNT/instances/web2/volumes/d3"
is "$(readlink "$MNT/instances/web2/volumes/d3")" ../../../volumes/data3 "and reads back relative"
fails_with EBUSY "a volume attached to web2 cannot be linked by web1 too" ln -s ../../../volumes/data3 "$W/volumes/d3"
like "$(get "$W/run/err")" "data3 is attached to instance web2 already" "run/err names the instance that has it"

# ---- the same volume twice ----
ok "volumes/a -> data2" ln -s ../../../volumes/data2 "$W/volumes/a"
fails_with EEXIST "linking data2 again as volumes/b is refused" ln -s ../../../volumes/data2 "$W/volumes/b"
like "$(get "$W/run/err")" "data2 is linked already" "run/err says the volume is linked already"
nok "volumes/b was not made" test -L "$W/volumes/b"
ok "mv volumes/a volumes/b renames the link" mv "$W/volumes/a" "$W/volumes/b"
is "$(readlink "$W/volumes/b")" ../../../volumes/data2 "the renamed link keeps its target"

# ---- referenced objects cannot be removed ----
fails_with EBUSY "rmdir of a linked volume is EBUSY" rmdir "$MNT/volumes/data1"
ok "the volume is still there" test -d "$MNT/volumes/data1"
like "$(get "$MNT/volumes/data1/run/err")" "linked from 1 place" "the volume's run/err says it is linked"
unlike "$(get "$MNT/volumes/data1/run/err")" '\.$' "the sentence has no final full stop"
fails_with EBUSY "rmdir of an image linked twice is EBUSY" rmdir "$MNT/images/tiny"
like "$(get "$MNT/images/tiny/run/err")" "linked from 2 places" "the image's run/err counts the links"
fails_with EBUSY "rmdir of a linked network is EBUSY" rmdir "$MNT/networks/net1"
fails_with EBUSY "rmdir of a linked security group is EBUSY" rmdir "$MNT/security-groups/web"
fails_with EBUSY "rmdir of a linked ssh key is EBUSY" rmdir "$MNT/ssh-keys/admin"
ok "rm volumes/data removes the link" rm "$W/volumes/data"
nok "volumes/data is gone" test -L "$W/volumes/data"
ok "rmdir of the volume now works" rmdir "$MNT/volumes/data1"
ok "rm nics/eth0/network" rm "$W/nics/eth0/network"
ok "rmdir of the network now works" rmdir "$MNT/networks/net1"

# ---- links before their targets (rsync order) ----
ok "a link to a volume that does not exist yet is accepted" ln -s ../../../volumes/later "$W/volumes/later"
is "$(readlink "$W/volumes/later")" ../../../volumes/later "readlink shows it"
nok "it does not resolve yet" test -e "$W/volumes/later"
ok "mkdir volumes/later" mkdir "$MNT/volumes/later"
is "$(get "$W/volumes/later/size")" 1G "the link resolves once the volume exists"
fails_with EBUSY "and the new volume is referenced" rmdir "$MNT/volumes/later"
mkdir "$MNT/instances/web3"
ok "an image link to a missing image is accepted" ln -s ../../images/future "$MNT/instances/web3/image"
put on "$MNT/instances/web3/power"
is "$(get "$MNT/instances/web3/run/state")" error "power on with a missing image is error"
like "$(get "$MNT/instances/web3/run/err")" "image future does not exist" "run/err names the missing image"
put off "$MNT/instances/web3/power"

# ---- links survive a remount ----
vdc_restart
is "$(readlink "$W/image")" ../../images/tiny "image link after remount"
is "$(readlink "$W/volumes/b")" ../../../volumes/data2 "volumes/b after remount"
is "$(readlink "$W/volumes/later")" ../../../volumes/later "volumes/later after remount"
is "$(readlink "$W/security-groups/web")" ../../../security-groups/web "security-groups/web after remount"
is "$(readlink "$MNT/instances/web2/image")" ../../images/tiny "web2/image after remount"
fails_with EBUSY "references are counted again after a remount" rmdir "$MNT/volumes/data2"

# ---- renaming ----
fails_with EBUSY "renaming a linked image is EBUSY" mv -T "$MNT/images/tiny" "$MNT/images/small"
ok "the image keeps its name" test -d "$MNT/images/tiny"
ok "renaming an instance that nothing links works" mv -T "$MNT/instances/web2" "$MNT/instances/web5"
is "$(readlink "$MNT/instances/web5/image")" ../../images/tiny "the renamed instance keeps its links"
nok "the old name is gone" test -e "$MNT/instances/web2"
fails_with EBUSY "the image is still referenced through the renamed instance" rmdir "$MNT/images/tiny"

# ---- removing the instance frees its targets ----
ok "rmdir an instance that holds links" rmdir "$W/nics/eth0" "$W/nics/eth1" "$W"
ok "rmdir web5" rmdir "$MNT/instances/web5"
ok "rmdir images/tiny once nothing links it" rmdir "$MNT/images/tiny"
ok "rmdir volumes/data2 once nothing links it" rmdir "$MNT/volumes/data2"

done_testing
