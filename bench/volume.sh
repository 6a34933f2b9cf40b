#!/bin/bash
# shellcheck shell=bash
#
# bench/volume.sh: the data path of volumes (docs/storage.md), measured on
# one machine. It starts what it needs and stops exactly that, by pid:
# a tgtd of its own on 127.0.0.1 (its own portal and control port), a
# vdcfs mount and a vdc-sta joined to it. Then it makes a volume through
# the tree (mkdir, size), waits until it is available and prints:
#
#   1. a 1 GiB sequential read of volumes/X/data (dd bs=1M) against
#      bench/volread reading the same LUN straight through libiscsi, and
#      their ratio (target: data >= 0.8 x direct);
#   2. tar --sparse of volumes/Y/ (10 GiB holding 100 MiB of data) against
#      tar of a 100 MiB plain file on tmpfs, and their ratio (target <= 2).
#      tar writes to a pipe into wc -c: GNU tar does not read at all when
#      the archive is /dev/null.
#
# Needs root (FUSE, tgtd), tgtd/tgtadm, sqlite3 (to read the volume's CHAP
# secret from vdcfs's store: it is never in the tree) and the builds:
#   VDCFS=build/vdcfs VDC_STA=build/vdc-sta bench/volume.sh
# Settings: PORT (the portal, default 13260), CTL (tgtd's control port,
# default 77), RUNS (default 3; the best run of each is kept),
# BENCH_KEEP=1 keeps the work folder.
set -euo pipefail
BENCH=volume   # lib.sh's messages name it
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VDC_STA=${VDC_STA:-$REPO/build/vdc-sta}
PORT=${PORT:-13260}
CTL=${CTL:-77}
RUNS=${RUNS:-3}
need_count RUNS "$RUNS"
[[ $(id -u) == 0 ]] || die "needs root (FUSE mounts and tgtd)"
for t in tgtd tgtadm sqlite3 cc pkg-config; do
	command -v "$t" >/dev/null || die "needs $t"
done
[[ -x $VDCFS ]] || die "no vdcfs at $VDCFS; run make first or set VDCFS"
[[ -x $VDC_STA ]] || die "no vdc-sta at $VDC_STA; run make first or set VDC_STA"

WORK=$(mktemp -d /tmp/vdc-bench-volume.XXXXXX)
SHM=$(mktemp -d /dev/shm/vdc-bench-volume.XXXXXX)
MNT=$WORK/mnt
TGTD_PID='' VDCFS_PID='' STA_PID=''
mkdir -p "$MNT" "$WORK/state" "$WORK/sta"

cleanup() {
	[[ -n $STA_PID ]] && kill "$STA_PID" 2>/dev/null && wait "$STA_PID" 2>/dev/null
	[[ -n $VDCFS_PID ]] && fuse_stop "$VDCFS_PID" "$MNT"
	# tgtd ignores SIGTERM while it serves targets: it is ours, so -9.
	[[ -n $TGTD_PID ]] && kill -9 "$TGTD_PID" 2>/dev/null && wait "$TGTD_PID" 2>/dev/null
	rm -rf "$SHM"
	work_remove "$WORK" "$MNT"
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
state_is() { [[ $(cat "$MNT/volumes/$1/run/state") == "$2" ]]; }

# best SECONDS...: the smallest.
best() { printf '%s\n' "$@" | sort -g | head -n 1; }
# timed CMD...: run CMD, print its wall time in seconds.
timed() {
	local t0 t1

	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f\n", ns / 1e9 }'
}

read -r -a iscsi_flags < <(pkg-config --cflags --libs libiscsi)
cc -O2 -o "$WORK/volread" "$REPO/bench/volread.c" "${iscsi_flags[@]}" || die "cannot build bench/volread.c"

tgtd -f -C "$CTL" --iscsi "portal=127.0.0.1:$PORT" >"$WORK/tgtd.log" 2>&1 &
TGTD_PID=$!
wait_for 10 tgtadm -C "$CTL" --op show --mode target || die "tgtd did not answer (see $WORK/tgtd.log)"

"$VDCFS" -f -o "state=$WORK/state,listen=127.0.0.1:0" "$MNT" >"$WORK/vdcfs.log" 2>&1 &
VDCFS_PID=$!
fuse_wait "$VDCFS_PID" "$MNT" || die "vdcfs did not mount (see $WORK/vdcfs.log)"

# Join a storage host with the command hosts/join prints for vdc-sta.
read -r -a join < <(grep '^vdc-sta ' "$MNT/hosts/join")
((${#join[@]} > 1)) || die "hosts/join names no vdc-sta command"
"$VDC_STA" "${join[@]:1}" --name sta1 --state "$WORK/sta" --portal "127.0.0.1:$PORT" \
	--tgt-control-port "$CTL" >"$WORK/sta.log" 2>&1 &
STA_PID=$!

mkdir "$MNT/volumes/seq" "$MNT/volumes/sparse"
echo 1G >"$MNT/volumes/seq/size"
echo 10G >"$MNT/volumes/sparse/size"
for v in seq sparse; do
	wait_for 60 state_is "$v" available ||
		die "volume $v is $(cat "$MNT/volumes/$v/run/state"), not available: $(cat "$MNT/volumes/$v/run/err")"
done

# The data: 1 GiB of random bytes, and 100 MiB in the middle of 10 GiB.
head -c 100M /dev/urandom >"$SHM/plain"
dd if=/dev/urandom of="$MNT/volumes/seq/data" bs=1M count=1024 conv=notrunc,fsync status=none
dd if="$SHM/plain" of="$MNT/volumes/sparse/data" bs=1M seek=3000 conv=notrunc,fsync status=none

# volread logs in as vdcfs's own initiator, with the volume's CHAP secret.
read -r portal iqn lun <"$MNT/volumes/seq/run/target"
initiator=${iqn%:vol-*}:control
user=vol-${iqn##*:vol-}
secret=$(sqlite3 -readonly "$WORK/state/state.db" \
	"SELECT value FROM live WHERE name = 'chap' AND obj = (SELECT id FROM obj WHERE kind = 'volumes' AND name = 'seq')")
[[ -n $secret ]] || die "no CHAP secret for volume seq in the store"

# cold FILE: drop the page cache of FILE (vdcfs keeps a volume's pages from
# one open to the next while nothing else can write it), so a "cold" run
# reads from the target.
cold() { dd if="$1" iflag=nocache count=0 status=none; }

fuse=() warm=() direct=() tarv=() tarw=() tarp=()
# shellcheck disable=SC2016 # $1 is the inner shell's
for ((i = 0; i < RUNS; i++)); do
	cold "$MNT/volumes/seq/data"
	fuse+=("$(timed dd if="$MNT/volumes/seq/data" of=/dev/null bs=1M status=none)")
	warm+=("$(timed dd if="$MNT/volumes/seq/data" of=/dev/null bs=1M status=none)")
	direct+=("$("$WORK/volread" -b 1048576 -u "$user" -s "$secret" -I "$initiator" "$portal" "$iqn" "$lun" |
		awk '{ print $4 }')")
	cold "$MNT/volumes/sparse/data"
	tarv+=("$(timed sh -c 'tar --sparse -cf - -C "$1" sparse | wc -c' _ "$MNT/volumes")")
	tarw+=("$(timed sh -c 'tar --sparse -cf - -C "$1" sparse | wc -c' _ "$MNT/volumes")")
	tarp+=("$(timed sh -c 'tar --sparse -cf - -C "$1" plain | wc -c' _ "$SHM")")
done
f=$(best "${fuse[@]}") w=$(best "${warm[@]}") d=$(best "${direct[@]}")
tv=$(best "${tarv[@]}") tw=$(best "${tarw[@]}") tp=$(best "${tarp[@]}")
awk -v f="$f" -v w="$w" -v d="$d" -v tv="$tv" -v tw="$tw" -v tp="$tp" 'BEGIN {
	printf "1 GiB sequential read, cold: data %.0f MB/s (%.2f s), volread %.0f MB/s (%.2f s), ratio %.2f (target >= 0.8)\n",
		1073.741824 / f, f, 1073.741824 / d, d, d / f
	printf "1 GiB sequential read, again (page cache kept): data %.0f MB/s (%.2f s)\n", 1073.741824 / w, w
	printf "tar --sparse, cold: volume (10 GiB, 100 MiB data) %.3f s, plain 100 MiB on tmpfs %.3f s, ratio %.2f (target <= 2)\n",
		tv, tp, tv / tp
	printf "tar --sparse, again: %.3f s, ratio %.2f\n", tw, tw / tp
	printf "floor: reading the 100 MiB straight from the target at volread'"'"'s rate takes %.3f s, ratio %.2f to tmpfs\n",
		d * 100 / 1024, d * 100 / 1024 / tp
}'
