#!/bin/bash
# Build the test guest image "tiny": a raw disk that boots through the BIOS
# like a real cloud image, made from Debian packages only and without a loop
# device, a mount or root.
#
#     tests/image/build-tiny-image.sh OUT.img
#
# The disk holds an MBR (syslinux's mbr.bin) and one bootable FAT partition
# with syslinux, the linux-image-cloud-amd64 kernel and a busybox initramfs.
# The initramfs's /init (tests/image/init) reads the cloud-init NoCloud seed,
# sets the hostname, prints it and the user-data on the serial console, runs
# user-data that starts with "#!" and prints "vdc-guest: ready". See
# docs/guest-image.md.
#
# The FAT partition is made as a separate file (mkfs.vfat -C), filled with
# mtools and made bootable by `syslinux --install` on that file; the disk is
# then assembled with sfdisk and dd. The output is sparse.
#
# It says each of its six steps on stderr as it begins ("build-tiny-image.sh:
# [2/6] downloading linux-image-...-cloud-amd64 (apt-get download)"), and
# what it made at the end.
#
# Environment:
#   VDC_IMAGE_MB      size of the disk in MiB (default 32)
#   VDC_KERNEL_FROM   "installed": the kernel of the installed package
#                     linux-image-cloud-amd64 (the default when it is);
#                     "download": `apt-get download` the package into
#                     VDC_KERNEL_CACHE (default ~/.cache/vdcfs) and unpack
#                     it there, which installs nothing and needs no root
set -euo pipefail
export LC_ALL=C
# mkfs.vfat, sfdisk and depmod live in sbin, which a user's PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=build-tiny-image.sh

die() {
	echo "$prog: $*" >&2
	exit 1
}

# step WHAT: say on stderr that the next of the build's steps begins.
steps=6
step_no=0
step() {
	step_no=$((step_no + 1))
	echo "$prog: [$step_no/$steps] $*" >&2
}

[ $# -eq 1 ] || die "usage: $prog OUT.img"
out=$1
image_mb=${VDC_IMAGE_MB:-32}
if ! [[ $image_mb =~ ^[0-9]+$ ]] || [ "$image_mb" -lt 16 ]; then
	die "VDC_IMAGE_MB must be a number of MiB, at least 16, not '$image_mb'"
fi

# Modules the guest loads, in this order, with their dependencies from
# modules.dep first. Those built into the kernel are skipped. virtio buses
# and disks find the seed; fat/vfat/isofs and the code pages read it (vfat
# needs cp437 and the "ascii" iocharset of this kernel's default; the others
# serve seeds made with other options); virtio_net gets the guest an address
# by DHCP; button and evdev let busybox acpid see the ACPI power button, so
# a graceful shutdown from libvirt works.
modules=(
	virtio_pci virtio_blk virtio_scsi sd_mod sr_mod virtio_net
	fat vfat isofs nls_cp437 nls_ascii nls_iso8859-1 nls_utf8
	button evdev
)

# ---- packages ----

# The packages come from scripts/install-deps, the project's one list: say
# which are missing rather than install them here.
need_packages() {
	local missing=()
	command -v sfdisk >/dev/null || missing+=(fdisk)
	command -v mkfs.vfat >/dev/null || missing+=(dosfstools)
	command -v mcopy >/dev/null || missing+=(mtools)
	command -v syslinux >/dev/null || missing+=(syslinux)
	command -v cpio >/dev/null || missing+=(cpio)
	[ -f /usr/lib/syslinux/mbr/mbr.bin ] || missing+=(syslinux-common)
	{ [ -x /bin/busybox ] && /bin/busybox --list | grep -x findfs >/dev/null; } || missing+=(busybox-static)
	[ "${#missing[@]}" -eq 0 ] && return 0
	die "missing packages: ${missing[*]} (run scripts/install-deps)"
}

step "checking the tools it needs (syslinux, mtools, dosfstools, busybox-static, ...)"
need_packages

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vdc-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- kernel ----

# The kernel is never installed here: on a real machine a second kernel
# package changes what the boot loader offers. An installed one is used;
# otherwise the package is downloaded (no root needed) and unpacked.
if [ -z "${VDC_KERNEL_FROM:-}" ]; then
	if dpkg-query -W -f='${Status}' linux-image-cloud-amd64 2>/dev/null | grep -q 'install ok installed'; then
		VDC_KERNEL_FROM=installed
	else
		VDC_KERNEL_FROM=download
	fi
fi

# The versioned package the metapackage stands for: linux-image-<ver>.
kernel_package() {
	if [ "$VDC_KERNEL_FROM" = installed ]; then
		dpkg-query -W -f='${Depends}' linux-image-cloud-amd64
	else
		apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: //p'
	fi | grep -o 'linux-image-[0-9][^ ,]*-cloud-amd64' | head -n1
}

case $VDC_KERNEL_FROM in
installed | download) ;;
*) die "VDC_KERNEL_FROM is 'installed' or 'download', not '$VDC_KERNEL_FROM'" ;;
esac
kpkg=$(kernel_package) || true
[ -n "$kpkg" ] || die "cannot tell which kernel linux-image-cloud-amd64 stands for (apt-get update?)"
kver=${kpkg#linux-image-}
kroot=
if [ "$VDC_KERNEL_FROM" = download ]; then
	cache=${VDC_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vdcfs}
	mkdir -p "$cache"
	deb=$(find "$cache" -maxdepth 1 -name "${kpkg}_*.deb" | sort | tail -n1)
	if [ -z "$deb" ]; then
		step "downloading $kpkg into $cache (apt-get download)"
		mkdir "$tmp/deb"
		# apt's _apt user must be able to write where it downloads.
		chmod 0755 "$tmp"
		chmod 0777 "$tmp/deb"
		(cd "$tmp/deb" && apt-get download -qq "$kpkg" >&2) || die "cannot download $kpkg"
		mv "$tmp"/deb/*.deb "$cache/"
		deb=$(find "$cache" -maxdepth 1 -name "${kpkg}_*.deb" | sort | tail -n1)
	else
		step "kernel $kpkg: using ${deb##*/}, downloaded into $cache before"
	fi
	step "unpacking ${deb##*/} (dpkg-deb, depmod)"
	mkdir "$tmp/kernel"
	dpkg-deb -x "$deb" "$tmp/kernel"
	kroot=$tmp/kernel
	# modules.dep is made when the package is installed, not shipped.
	command -v depmod >/dev/null || die "depmod is missing (apt-get install kmod)"
	depmod -b "$kroot" "$kver"
else
	step "kernel $kpkg: the installed package"
	step "kernel files: /boot/vmlinuz-$kver and /lib/modules/$kver, as installed"
fi
vmlinuz=$kroot/boot/vmlinuz-$kver
moddir=$kroot/lib/modules/$kver
[ -f "$vmlinuz" ] || die "no kernel at $vmlinuz"
[ -f "$moddir/modules.dep" ] || die "no modules.dep in $moddir"

# ---- initramfs ----

# Every file gets the kernel's date, so that the same packages give the
# same image, byte for byte.
epoch=$(stat -c %Y "$vmlinuz")
step "making the initramfs (busybox, ${#modules[@]} modules and their dependencies, cpio, gzip)"

stage=$tmp/initramfs
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,mnt,root,var/log,etc/acpi/PWRF,lib/modules}
cp /bin/busybox "$stage/bin/busybox"
/bin/busybox --list-full | while read -r applet; do
	[ -e "$stage/$applet" ] || [ -L "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done

# A module's name as the kernel sees it: file name without .ko*, "-" as "_".
modname() {
	local n=${1##*/}
	n=${n%%.ko*}
	echo "${n//-/_}"
}

declare -A dep_line=() builtin=() loaded=()
while IFS= read -r line; do
	dep_line[$(modname "${line%%:*}")]=$line
done <"$moddir/modules.dep"
if [ -f "$moddir/modules.builtin" ]; then
	while IFS= read -r line; do
		builtin[$(modname "$line")]=1
	done <"$moddir/modules.builtin"
fi

# Copy one module file into the initramfs, uncompressed (busybox insmod may
# lack xz and zstd), and add it to the load order.
add_module_file() {
	local path=$1 name dest
	name=$(modname "$path")
	[ -n "${loaded[$name]:-}" ] && return 0
	loaded[$name]=1
	dest=$stage/lib/modules/$name.ko
	case $path in
	*.ko) cp "$moddir/$path" "$dest" ;;
	*.ko.xz) xz -dc "$moddir/$path" >"$dest" ;;
	*.ko.zst) zstd -qdc "$moddir/$path" >"$dest" ;;
	*.ko.gz) gzip -dc "$moddir/$path" >"$dest" ;;
	*) die "unknown module file $path" ;;
	esac
	echo "$name.ko" >>"$stage/etc/modules"
}

: >"$stage/etc/modules"
for m in "${modules[@]}"; do
	n=$(modname "$m")
	[ -n "${builtin[$n]:-}" ] && continue
	line=${dep_line[$n]:-}
	[ -n "$line" ] || die "module $m is neither built into $kver nor in its modules.dep"
	# modules.dep lists every dependency, to be loaded last one first.
	read -r -a deps <<<"${line#*:}"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		add_module_file "${deps[i]}"
	done
	add_module_file "${line%%:*}"
done

install -m 0755 "$here/init" "$stage/init"
cat >"$stage/etc/inittab" <<'EOF'
# busybox init, started by /init once the guest is configured. The shell
# waits for Enter, so the console stays quiet until someone uses it.
::respawn:/sbin/acpid -f
ttyS0::askfirst:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/rc.shutdown
EOF
cat >"$stage/etc/rc.shutdown" <<'EOF'
#!/bin/sh
# On its own line: a shell prompt may be on the console.
printf '\nvdc-guest: shutting down\n' >/dev/console
sync
EOF
chmod 0755 "$stage/etc/rc.shutdown"
# busybox acpid runs this on the ACPI power button (libvirt's shutdown).
cat >"$stage/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
exec /sbin/poweroff
EOF
chmod 0755 "$stage/etc/acpi/PWRF/00000080"
mkdir -p "$stage/etc/udhcpc"
cat >"$stage/etc/udhcpc/default.script" <<'EOF'
#!/bin/sh
# udhcpc hook: configure the interface and tell the console the address.
case $1 in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	for r in $router; do
		ip route add default via "$r" dev "$interface" && break
	done
	: >/etc/resolv.conf
	for d in $dns; do
		echo "nameserver $d" >>/etc/resolv.conf
	done
	# On its own line: it comes at any time, maybe after a prompt.
	printf '\nvdc-guest: ip %s/%s on %s\n' "$ip" "${mask:-24}" "$interface" >/dev/console
	;;
esac
EOF
chmod 0755 "$stage/etc/udhcpc/default.script"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
cat >"$stage/etc/profile" <<'EOF'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='\h:\w\$ '
EOF

# newc entry for a device node, so /init starts with a console although
# mknod would need root: NAME MODE(octal) MAJOR MINOR.
newc_entry() {
	local name=$1 mode=$2 major=$3 minor=$4 len
	len=$((${#name} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		0 "$((8#$mode))" 0 0 1 "$epoch" 0 0 0 "$major" "$minor" "$len" 0 "$name"
	# The header (110 bytes) and name are padded to a multiple of 4.
	head -c $(((4 - (110 + len) % 4) % 4)) /dev/zero
}

# The kernel unpacks concatenated archives: busybox and the files, then
# dev/console.
{
	(cd "$stage" && find . -mindepth 1 -exec touch -h -d "@$epoch" {} + &&
		find . -mindepth 1 | sed 's|^\./||' | sort |
		cpio --quiet -o -H newc -R 0:0 --reproducible)
	newc_entry dev/console 020600 5 1
	newc_entry TRAILER!!! 0 0 0
} | gzip -9n >"$tmp/initrd.img"

# ---- the FAT partition ----

cat >"$tmp/syslinux.cfg" <<'EOF'
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT vdc
LABEL vdc
	KERNEL /vmlinuz
	INITRD /initrd.img
	APPEND console=ttyS0 quiet
EOF
cp "$vmlinuz" "$tmp/vmlinuz"
touch -d "@$epoch" "$tmp/vmlinuz" "$tmp/initrd.img" "$tmp/syslinux.cfg"

step "making the FAT boot partition (mkfs.vfat, mcopy, syslinux --install)"
start_sector=2048
part_sectors=$((image_mb * 2048 - start_sector))
part=$tmp/part.img
# -h records the partition's offset in its boot sector, as for a filesystem
# made in place on the disk; --invariant fixes the volume id.
mkfs.vfat -C -F 16 -n VDCBOOT -h "$start_sector" --invariant \
	"$part" $((part_sectors / 2)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -m -i "$part" "$tmp/vmlinuz" "$tmp/initrd.img" "$tmp/syslinux.cfg" ::/ ||
	die "the kernel and initramfs do not fit in $image_mb MiB (set VDC_IMAGE_MB)"
SOURCE_DATE_EPOCH=$epoch syslinux --install "$part"

# ---- the disk ----

step "assembling the ${image_mb} MiB disk (sfdisk, dd)"
disk=$tmp/disk.img
truncate -s "${image_mb}M" "$disk"
sfdisk --quiet --label dos "$disk" <<EOF
label-id: 0x76646331
start=$start_sector, size=$part_sectors, type=e, bootable
EOF
# The boot code only: the partition table sfdisk wrote stays.
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$part" of="$disk" bs=1M seek=$((start_sector * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
mv "$disk" "$out"
echo "$prog: $out: $image_mb MiB disk, kernel $kver, initramfs $(stat -c %s "$tmp/initrd.img") bytes, modules: $(tr '\n' ' ' <"$stage/etc/modules")" >&2
