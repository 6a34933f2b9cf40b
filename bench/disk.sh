#!/bin/bash
# shellcheck shell=bash
#
# bench/disk.sh: instances' root disks on a storage host (docs/storage.md,
# "Instance disks") and a whole data center moved by tar, measured on one
# machine (issue 13, "Speed"). It starts what it needs and stops exactly
# that, by pid: tgtds of its own on 127.0.0.1 (their own portals and
# control ports), vdcfs mounts and vdc-sta agents joined to them, and two
# file systems in loop-mounted files under its work folder (XFS with
# reflinks, ext4) for the agents' --state; the mounts and loop devices
# are removed on exit, failure and interrupt included. It prints, each
# against a reference measured in the same run:
#
#   1. A new instance's disk ready: the time from linking an image to a
#      fresh instance (ln -s ../../images/NAME instances/X/image) until
#      instances/X/disk opens and its first MiB reads, for a 32M and a 2G
#      raw image full of random bytes, with the agent's --state on XFS
#      (mkfs.xfs -m reflink=1: every disk a FICLONE of the cached image;
#      target 2G/32M <= 1.5) and on ext4 (a sparse copy, in time
#      proportional to the data: the ratio shown for reference, no
#      target). One instance of each image is made first, so the measured
#      ones find the image in the storage host's cache; that first time
#      (fetch included) is printed too.
#   2. A data center whose bytes are mostly disks and volumes (3 instances
#      whose disks are grown to 1G and hold 100-200M of data each, 2
#      volumes of 1G holding 100M each): its export, tar --exclude-caches
#      --sparse of the mount into wc -c, against the same tar of a local
#      folder holding the same files (the export extracted on the same
#      XFS), cold (page caches of those files dropped) and again; and its
#      import, tar -xf of that archive into a fresh vdcfs mount (its own
#      state folder, its own storage host with its own tgtd), against tar
#      -xf into a local folder on the same XFS. Targets <= 2. The sha256
#      of every disk and data is checked: the export's against the source
#      mount's, each import's against the local copy's.
#
# --exclude-caches leaves run/ and hosts/ out (docs/tree.md): the
# hardware a data center ran on is no part of what moves.
#
# Needs root (FUSE, tgtd, loop mounts), tgtd/tgtadm, losetup, mkfs.xfs,
# mkfs.ext4 and the builds; about 20G free under TMPDIR (the loop files
# are sparse; the ext4 one fills with a copy of the 2G image per disk):
#   VDCFS=build/vdcfs VDC_STA=build/vdc-sta bench/disk.sh
# Settings: PORT (the first tgtd's portal, default 13270; the second uses
# PORT+1), CTL (the first tgtd's control port, default 78; the second
# CTL+1), RUNS (default 2; the best run of each is kept), BIG (the large
# image in MiB, default 2048), BENCH_KEEP=1 keeps the work folder (its
# file systems are unmounted all the same), PARTS (default "1 2": the
# parts to run; PARTS=2 measures only the export and the import).
set -euo pipefail
BENCH=disk   # lib.sh's messages name it
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VDC_STA=${VDC_STA:-$REPO/build/vdc-sta}
PORT=${PORT:-13270}
CTL=${CTL:-78}
RUNS=${RUNS:-2}
BIG=${BIG:-2048}
PARTS=${PARTS:-1 2}
SMALL=32
need_count RUNS "$RUNS"
need_count BIG "$BIG"
[[ $(id -u) == 0 ]] || die "needs root (FUSE mounts, tgtd, loop devices)"
for t in tgtd tgtadm losetup mkfs.xfs mkfs.ext4 sha256sum; do
	command -v "$t" >/dev/null || die "needs $t"
done
[[ -x $VDCFS ]] || die "no vdcfs at $VDCFS; run make first or set VDCFS"
[[ -x $VDC_STA ]] || die "no vdc-sta at $VDC_STA; run make first or set VDC_STA"

# Run in a mount namespace of its own, private: a namespace another
# program makes meanwhile (the integration tests' hosts, unshare -m) would
# otherwise get a copy of the loop mounts, keep their file systems alive
# after our umount and their loop devices attached until it ends. Every
# mount this script makes is gone with its namespace at the latest.
if [[ -z ${VDC_BENCH_DISK_NS:-} ]]; then
	command -v unshare >/dev/null || die "needs unshare"
	VDC_BENCH_DISK_NS=1 exec unshare -m --propagation private bash "${BASH_SOURCE[0]}" "$@"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vdc-bench-disk.XXXXXX")
# What this script started or made, for cleanup: per stack slot (1, 2) a
# tgtd, a vdcfs and its mount, a vdc-sta; every mount point it ever used;
# the loop file systems and their devices.
declare -a TGTD=() VFS=() MNTS=() STA=()
ALL_MNTS=() FS_MNTS=() LOOPS=()

# stack_stop SLOT: stop the agent, the vdcfs and the tgtd of SLOT, in that
# order (the agent would report to a vdcfs gone; tgtd holds the agent's
# files open until it exits). A wait's status (137 for tgtd) is no error.
stack_stop() {
	local s=$1

	if [[ -n ${STA[s]:-} ]]; then
		kill "${STA[s]}" 2>/dev/null && { wait "${STA[s]}" 2>/dev/null || true; }
		STA[s]=''
	fi
	if [[ -n ${VFS[s]:-} ]]; then
		fuse_stop "${VFS[s]}" "${MNTS[s]}"
		VFS[s]=''
	fi
	# tgtd ignores SIGTERM while it serves targets: it is ours, so -9.
	if [[ -n ${TGTD[s]:-} ]]; then
		kill -9 "${TGTD[s]}" 2>/dev/null && { wait "${TGTD[s]}" 2>/dev/null || true; }
		TGTD[s]=''
	fi
	return 0
}

cleanup() {
	local s m l

	for s in 1 2; do
		stack_stop "$s"
	done
	for m in "${FS_MNTS[@]}"; do
		if is_mounted "$m"; then
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
				echo "$BENCH: cannot unmount $m" >&2
		fi
	done
	for l in "${LOOPS[@]}"; do
		losetup -d "$l" 2>/dev/null || echo "$BENCH: cannot detach $l" >&2
	done
	work_remove "$WORK" "${ALL_MNTS[@]}" "${FS_MNTS[@]}"
}
bench_traps

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10))

	shift
	while ! "$@" 2>/dev/null; do
		((n-- > 0)) || return 1
		sleep 0.1
	done
}
file_is() { [[ $(cat "$1") == "$2" ]]; }
now() { date +%s%N; }
# secs T0 T1: the seconds from T0 to T1 (both from now).
secs() { awk -v ns=$(($2 - $1)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'; }
# best SECONDS...: the smallest.
best() { printf '%s\n' "$@" | sort -g | head -n 1; }
# timed CMD...: run CMD, print its wall time in seconds; die if it fails.
timed() {
	local t0 t1

	t0=$(now)
	"$@" >/dev/null || die "failed: $*"
	t1=$(now)
	secs "$t0" "$t1"
}
size_of() { stat -c %s "$1"; }

# loop_fs TYPE SIZE_MIB DIR: make a file system of TYPE in a sparse file
# of SIZE_MIB under the work folder, on a loop device, mounted on DIR;
# recorded for cleanup before each step that could leave something.
loop_fs() {
	local type=$1 mib=$2 dir=$3 img=$WORK/$1.img dev

	truncate -s "${mib}M" "$img"
	dev=$(losetup --find --show "$img") || die "no loop device for $img"
	LOOPS+=("$dev")
	case $type in
	xfs) mkfs.xfs -q -f -m reflink=1 "$dev" >/dev/null || die "mkfs.xfs failed on $dev" ;;
	ext4) mkfs.ext4 -q -F "$dev" >/dev/null || die "mkfs.ext4 failed on $dev" ;;
	esac
	mkdir -p "$dir"
	FS_MNTS+=("$dir")
	mount "$dev" "$dir" || die "cannot mount $dev on $dir"
}

# stack_start SLOT TAG STA_STATE NAME: in slot SLOT (1 or 2), a tgtd on
# 127.0.0.1:PORT+SLOT-1 (control port CTL+SLOT-1), a vdcfs with a fresh
# state folder mounted on $WORK/TAG/mnt, and a vdc-sta named NAME with its
# --state in STA_STATE joined to it with the command hosts/join prints;
# returns once the host is up. Sets M to the mount.
stack_start() {
	local s=$1 sta_state=$3 name=$4 dir=$WORK/$2
	local port=$((PORT + $1 - 1)) ctl=$((CTL + $1 - 1))
	local -a join

	mkdir -p "$dir/mnt" "$dir/state" "$sta_state"
	MNTS[s]=$dir/mnt
	ALL_MNTS+=("$dir/mnt")
	tgtd -f -C "$ctl" --iscsi "portal=127.0.0.1:$port" >"$dir/tgtd.log" 2>&1 &
	TGTD[s]=$!
	wait_for 10 tgtadm -C "$ctl" --op show --mode target || die "tgtd did not answer (see $dir/tgtd.log)"

	"$VDCFS" -f -o "state=$dir/state,listen=127.0.0.1:0" "$dir/mnt" >"$dir/vdcfs.log" 2>&1 &
	VFS[s]=$!
	fuse_wait "${VFS[s]}" "$dir/mnt" || die "vdcfs did not mount (see $dir/vdcfs.log)"

	read -r -a join < <(grep '^vdc-sta ' "$dir/mnt/hosts/join")
	((${#join[@]} > 1)) || die "hosts/join names no vdc-sta command"
	"$VDC_STA" "${join[@]:1}" --name "$name" --state "$sta_state" --portal "127.0.0.1:$port" \
		--tgt-control-port "$ctl" >"$dir/sta.log" 2>&1 &
	STA[s]=$!
	wait_for 30 file_is "$dir/mnt/hosts/$name/run/state" up ||
		die "storage host $name is not up (see $dir/sta.log)"
	M=$dir/mnt
}

# image_add MNT NAME FILE: import FILE as images/NAME; wait until vdcfs
# has its checksum (the storage host waits for it, and that wait belongs
# to no measurement).
image_add() {
	mkdir "$1/images/$2"
	cp --sparse=always "$3" "$1/images/$2/data"
	wait_for 120 file_is "$1/images/$2/run/state" available ||
		die "image $2 is $(cat "$1/images/$2/run/state"): $(cat "$1/images/$2/run/err")"
}

# disk_reads FILE: FILE opens and its first MiB reads whole (an unplaced
# disk is an empty file; a disk being made blocks the open, up to 30 s,
# or fails it with EAGAIN).
disk_reads() { [[ $(head -c 1M "$1" 2>/dev/null | wc -c) == 1048576 ]]; }

# ready MNT INST IMAGE FILE: make instance INST, link IMAGE (a copy of the
# local FILE) to it, and print the seconds until its disk opens and reads
# its first MiB; then check that MiB against FILE's (not timed): a disk
# that reads but does not hold the image measures nothing.
ready() {
	local mnt=$1 inst=$2 img=$3 file=$4 disk=$1/instances/$2/disk t0 t1 tries=0

	mkdir "$mnt/instances/$inst"
	t0=$(now)
	ln -s "../../images/$img" "$mnt/instances/$inst/image"
	until disk_reads "$disk"; do
		((tries++ < 6000)) || die "instance $inst: disk not readable after 10 min: $(cat "$mnt/instances/$inst/run/err")"
		sleep 0.05
	done
	t1=$(now)
	cmp -s -n 1048576 "$disk" "$file" ||
		die "instance $inst: the first MiB of disk is not image $img's (is vdc-sta one that makes disks from images?)"
	secs "$t0" "$t1"
}

# ---- 1. a new instance's disk ready ----

head -c "${SMALL}M" /dev/urandom >"$WORK/small.img"
[[ " $PARTS " != *" 1 "* ]] || head -c "${BIG}M" /dev/urandom >"$WORK/big.img"

# part1 FS: the figures of part 1 with the agent's --state on FS (xfs or
# ext4), printed as one line each; the warm-up instances' times too.
part1() {
	local fs=$1 sm bg warm_s warm_b i rs rb
	local -a small=() big=()

	stack_start 1 "p1-$fs" "$WORK/$fs/sta-p1" "sta-$fs"
	image_add "$M" small "$WORK/small.img"
	image_add "$M" big "$WORK/big.img"
	warm_s=$(ready "$M" warm-small small "$WORK/small.img")
	warm_b=$(ready "$M" warm-big big "$WORK/big.img")
	cmp -s "$M/instances/warm-small/disk" "$WORK/small.img" || die "$fs: disk of warm-small differs from its image"
	cmp -s "$M/instances/warm-big/disk" "$WORK/big.img" || die "$fs: disk of warm-big differs from its image"
	for ((i = 0; i < RUNS; i++)); do
		small+=("$(ready "$M" "s$i" small "$WORK/small.img")")
		big+=("$(ready "$M" "b$i" big "$WORK/big.img")")
	done
	stack_stop 1
	sm=$(best "${small[@]}") bg=$(best "${big[@]}")
	rs=${small[*]} rb=${big[*]}
	awk -v fs="$fs" -v sm="$sm" -v bg="$bg" -v ws="$warm_s" -v wb="$warm_b" -v rs="$rs" -v rb="$rb" \
		-v big="$BIG" -v small="$SMALL" 'BEGIN {
		target = fs == "xfs" ? "target <= 1.5" : "a copy: no target"
		printf "%s: disk ready, %dM image %.3f s, %dM image %.3f s, ratio %.2f (%s)\n",
			fs, small, sm, big, bg, bg / sm, target
		printf "%s:   runs: %dM [%s] s, %dM [%s] s; first instance of each (image fetched into the host'"'"'s cache): %.3f s, %.3f s\n",
			fs, small, rs, big, rb, ws, wb
	}'
}

ext4_mib=$(((RUNS + 3) * (BIG + SMALL) + 1024))
loop_fs xfs 16384 "$WORK/xfs"
if [[ " $PARTS " == *" 1 "* ]]; then
	loop_fs ext4 "$ext4_mib" "$WORK/ext4"
	part1 xfs
	part1 ext4
fi

# ---- 2. export and import of a data center ----

# fill FILE MIB SEEK_MIB: write MIB MiB of random bytes into FILE at
# SEEK_MIB MiB, in place, synced.
fill() {
	head -c "$2M" /dev/urandom |
		dd of="$1" bs=1M seek="$3" iflag=fullblock conv=notrunc,fsync status=none
}

# cold FILE...: drop the page cache of each FILE (vdcfs's, tgtd's backing
# files, the local copy's), so a cold tar reads from the disks.
cold() {
	local f

	for f in "$@"; do
		dd if="$f" iflag=nocache count=0 status=none
	done
}

# data_files ROOT: the disk and data files under ROOT, relative, sorted;
# not run/'s nor hosts/ (a storage host's run/disk is its room), which
# --exclude-caches leaves out of the archive.
data_files() {
	(cd "$1" && find . \( -name run -o -path ./hosts \) -prune -o -type f \( -name disk -o -name data \) -print | sort)
}

# same_bytes A B WHAT: die unless every disk and data under A has the
# sha256 of the same file under B (and the two hold the same list).
same_bytes() {
	local a b

	a=$(cd "$1" && data_files . | xargs -d '\n' sha256sum)
	b=$(cd "$2" && data_files . | xargs -d '\n' sha256sum)
	[[ -n $a && $a == "$b" ]] || die "$3: sha256 of disk and data files differ:
$(diff <(echo "$a") <(echo "$b"))"
	echo "$a" | wc -l
}

stack_start 1 dc-a "$WORK/xfs/sta-a" sta-a
A=$M
image_add "$A" small "$WORK/small.img"
i=0
for mib in 100 150 200; do
	i=$((i + 1))
	ready "$A" "web$i" small "$WORK/small.img" >/dev/null
	echo 1G >"$A/instances/web$i/disk-size"
	wait_for 60 test "$(size_of "$A/instances/web$i/disk")" -eq 1073741824 ||
		die "disk of web$i did not grow to 1G"
	fill "$A/instances/web$i/disk" "$mib" $((100 + 200 * i))
done
for v in data1 data2; do
	mkdir "$A/volumes/$v"
	echo 1G >"$A/volumes/$v/size"
	wait_for 60 file_is "$A/volumes/$v/run/state" available || die "volume $v is not available"
	fill "$A/volumes/$v/data" 100 400
done

# What one write costs: GNU tar (1.34) writes a sparse member 512 bytes
# at a time, each a FUSE request. 16 MiB into a scratch volume as 512-byte
# and as 1 MiB writes, then the volume is removed again.
mkdir "$A/volumes/scratch"
echo 64M >"$A/volumes/scratch/size"
wait_for 60 file_is "$A/volumes/scratch/run/state" available || die "volume scratch is not available"
w512=$(timed dd if="$WORK/small.img" of="$A/volumes/scratch/data" bs=512 count=32768 conv=notrunc status=none)
w1m=$(timed dd if="$WORK/small.img" of="$A/volumes/scratch/data" bs=1M count=16 seek=16 conv=notrunc status=none)
rmdir "$A/volumes/scratch"

# The archive the import reads, and the local copy of the same files.
tar --exclude-caches --sparse -cf "$WORK/dc.tar" -C "$A" . || die "tar c of the mount failed"
LOCAL=$WORK/xfs/local
mkdir "$LOCAL"
tar -xf "$WORK/dc.tar" -C "$LOCAL" || die "tar x into $LOCAL failed"
sync -f "$LOCAL"
nsum=$(same_bytes "$A" "$LOCAL" "export")
mapfile -t mfiles < <(data_files "$A" | sed "s|^\.|$A|")
mapfile -t lfiles < <(data_files "$LOCAL" | sed "s|^\.|$LOCAL|")
mapfile -t bfiles < <(find "$WORK/xfs/sta-a" -type f -name '*.img')

# The export, its bytes counted by wc -c: GNU tar reads nothing when the
# archive is /dev/null.
export_tar() { tar --exclude-caches --sparse -cf - -C "$1" . | wc -c; }
# The archives' sizes, the copy's pages dropped first: XFS preallocates
# unwritten extents after what tar x wrote, and SEEK_DATA calls them data
# while they have pages in the cache (a third more bytes for tar to read).
cold "${lfiles[@]}"
bytes_m=$(export_tar "$A") bytes_l=$(export_tar "$LOCAL")
exm=() exmw=() exl=() exlw=()
for ((i = 0; i < RUNS; i++)); do
	cold "${mfiles[@]}" "${bfiles[@]}"
	exm+=("$(timed export_tar "$A")")
	exmw+=("$(timed export_tar "$A")")
	cold "${lfiles[@]}"
	exl+=("$(timed export_tar "$LOCAL")")
	exlw+=("$(timed export_tar "$LOCAL")")
done
stack_stop 1

# The import, RUNS times, each into a fresh mount with a fresh storage
# host (and a fresh local folder), checked byte for byte.
imm=() iml=()
for ((i = 0; i < RUNS; i++)); do
	stack_start 2 "dc-b$i" "$WORK/xfs/sta-b$i" "sta-b$i"
	B=$M
	imm+=("$(timed tar -xf "$WORK/dc.tar" -C "$B")")
	rm -rf "$WORK/xfs/local-b"
	mkdir "$WORK/xfs/local-b"
	iml+=("$(timed tar -xf "$WORK/dc.tar" -C "$WORK/xfs/local-b")")
	same_bytes "$B" "$WORK/xfs/local-b" "import $((i + 1))" >/dev/null
	stack_stop 2
	rm -rf --one-file-system "$WORK/xfs/sta-b$i"
done

awk -v n="$nsum" -v w512="$w512" -v w1m="$w1m" -v bm="$bytes_m" -v bl="$bytes_l" -v ar="$(size_of "$WORK/dc.tar")" \
	-v em="$(best "${exm[@]}")" -v emw="$(best "${exmw[@]}")" \
	-v el="$(best "${exl[@]}")" -v elw="$(best "${exlw[@]}")" \
	-v im="$(best "${imm[@]}")" -v il="$(best "${iml[@]}")" \
	-v rem="${exm[*]}" -v rel="${exl[*]}" -v rim="${imm[*]}" -v ril="${iml[*]}" 'BEGIN {
	printf "data center: 3 instances (disks of 1G holding 32M of image and 100, 150, 200M), 2 volumes (1G holding 100M): archive %.0f MB, %d disk and data files\n",
		ar / 1e6, n
	printf "export, cold: tar --sparse of the mount %.3f s, of a local folder on the same XFS %.3f s, ratio %.2f (target <= 2)\n",
		em, el, em / el
	printf "export, again: mount %.3f s, local %.3f s, ratio %.2f (archives %d and %d bytes)\n",
		emw, elw, emw / elw, bm, bl
	printf "import: tar -xf into a fresh mount %.3f s, into a local folder %.3f s, ratio %.2f (target <= 2); sha256 of every disk and data equal\n",
		im, il, im / il
	printf "  runs: export cold mount [%s], local [%s]; import mount [%s], local [%s] s\n", rem, rel, rim, ril
	printf "writes into a volume'"'"'s data: 16 MiB as 512-byte writes (as tar x writes a sparse file) %.3f s (%.1f MB/s), as 1 MiB writes %.3f s (%.0f MB/s)\n",
		w512, 16.777216 / w512, w1m, 16.777216 / w1m
}'
