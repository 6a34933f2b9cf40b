#!/bin/bash
# Make a cloud-init NoCloud seed: a small vfat image labelled CIDATA holding
# meta-data and user-data, without a loop device or a mount.
#
#     tests/image/make-seed.sh SEED.img HOSTNAME USER-DATA-FILE [SSH-KEYS-FILE]
#
# meta-data gets instance-id (VDC_INSTANCE_ID, default iid-HOSTNAME),
# local-hostname and, when SSH-KEYS-FILE is given, its keys (one a line) as
# public-keys. USER-DATA-FILE is copied as it is; "-" reads standard input.
set -euo pipefail
export LC_ALL=C
# mkfs.vfat lives in sbin, which a user's PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin

prog=make-seed

die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# -eq 3 ] || [ $# -eq 4 ] || die "usage: $prog SEED.img HOSTNAME USER-DATA-FILE [SSH-KEYS-FILE]"
seed=$1 name=$2 user_data=$3 keys=${4:-}
[[ $name =~ ^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$ ]] || die "'$name' is not a hostname"
command -v mkfs.vfat >/dev/null || die "mkfs.vfat is missing (apt-get install dosfstools)"
command -v mcopy >/dev/null || die "mcopy is missing (apt-get install mtools)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vdc-seed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

{
	echo "instance-id: ${VDC_INSTANCE_ID:-iid-$name}"
	echo "local-hostname: $name"
	if [ -n "$keys" ]; then
		echo "public-keys:"
		grep -v '^[[:space:]]*\(#\|$\)' "$keys" | sed 's/^/  - /'
	fi
} >"$tmp/meta-data"
if [ "$user_data" = - ]; then
	cat >"$tmp/user-data"
else
	cp "$user_data" "$tmp/user-data"
fi

# 1 MiB is room for a user-data of several hundred KiB; a larger one gets a
# larger filesystem.
kib=$(( ($(stat -c %s "$tmp/user-data") / 1024 + 1024 + 1023) / 1024 * 1024 ))
rm -f "$tmp/seed.img"
mkfs.vfat -C -n CIDATA "$tmp/seed.img" "$kib" >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/seed.img" "$tmp/meta-data" "$tmp/user-data" ::/
mv "$tmp/seed.img" "$seed"
