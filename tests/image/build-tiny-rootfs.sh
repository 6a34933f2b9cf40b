#!/bin/bash
# Build the test container root "tiny-rootfs": a tarball of a root
# filesystem for vdc-hva's lxc driver, made from Debian's busybox-static and
# tests/image/rootfs-init, without root (the members are owned by 0:0 in
# the archive).
#
#     tests/image/build-tiny-rootfs.sh OUT.tar
#
# The root holds /bin/busybox with a link per applet, /sbin/init (the
# rootfs-init script, which reads the NoCloud seed folder
# /var/lib/cloud/seed/nocloud), the folders a container's init expects
# and an /etc with passwd and group. docs/guest-image.md says more.
#
# Environment:
#   VDC_BUSYBOX   the static busybox to copy (default /bin/busybox of the
#                 installed busybox-static)
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=build-tiny-rootfs

die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $prog OUT.tar"
out=$1
busybox=${VDC_BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || die "$busybox is missing (apt-get install busybox-static)"
# A dynamic busybox would need the host's libraries inside the root.
if file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked'; then
	die "$busybox is not static (apt-get install busybox-static)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
r=$tmp/root
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,var/lib/cloud/seed/nocloud}
chmod 1777 "$r/tmp"
chmod 0700 "$r/root"
cp "$busybox" "$r/bin/busybox"
chmod 0755 "$r/bin/busybox"
"$busybox" --list-full | while read -r applet; do
	case $applet in
	bin/busybox | sbin/init | linuxrc | "") continue ;;
	esac
	[ -e "$r/$applet" ] || ln -s /bin/busybox "$r/$applet"
done
install -m 0755 "$here/rootfs-init" "$r/sbin/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
printf 'root:x:0:\n' > "$r/etc/group"
printf 'tiny\n' > "$r/etc/hostname"

# Sorted names and a fixed time: the same inputs give the same bytes.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar \
	-C "$r" -cf "$out.tmp" .
mv "$out.tmp" "$out"
