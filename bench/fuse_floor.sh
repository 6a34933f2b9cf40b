#!/bin/bash
#
# bench/fuse_floor.sh: the floor of the import through FUSE (issue 13,
# "Speed": `tar -xf` of a data center into the mount <= 2x the same into
# a local folder). GNU tar 1.34 writes a sparse member's data 512 bytes
# at a time, and without the write-back cache (which vdcfs cannot use,
# docs/storage.md) each write(2) is one synchronous FUSE request. This
# measures what that costs with a file system that does nothing with the
# bytes, build/bench-fuse-floor (bench/fuse_floor.c, mounted as vdcfs
# is), so what any FUSE file system without the write-back cache would
# cost on this machine at least:
#
#   bench/fuse_floor.sh          (as root; about a minute)
#
# An archive of the import's shape, smaller: three sparse files of 1G
# holding 200 MiB of random bytes at a few offsets, two folders with a few
# small files and symbolic links (one climbing with "..", as instances'
# image links do), made with tar --sparse -cf. Then RUNS rounds (default
# 3), each in turn:
#   local   tar -xf into a local folder on the file system of the archive
#           (removed and made again before each run);
#   mt      tar -xf into a fresh floor mount, multi-threaded (vdcfs's loop);
#   st      the same, single-threaded (-s);
#   dd      16 MiB of random bytes with dd bs=512 into a new file on a
#           fresh floor mount (multi-threaded), into a new local file, and
#           with bs=1M into the floor, the cost of one request.
# Medians and bests of the runs are printed, and their ratios to the
# local folder's (median to median, best to best).
# `sync` runs before each timed command (outside the timing) so that no
# earlier run's dirty pages are written back during it; caches are not
# dropped: the archive and the source of dd are read from the page cache
# in every run alike (read once before the first).
#
# The writes counted are the floor's own WRITE requests, printed by it at
# unmount; with strace, tar's write(2)s into a local folder are counted
# once too, to show they are the same number. The cost of one write is
# given two ways: the floor's time over its writes, and the time it adds
# to the local folder's over its writes. The real import (docs/
# performance.md: 2.86 s into a local folder, 746 MiB of data written as
# 1,527,808 512-byte writes; IMPORT_LOCAL, IMPORT_WRITES) is projected
# from the latter: IMPORT_LOCAL + IMPORT_WRITES * that, over IMPORT_LOCAL.
#
# Environment: RUNS (3), FLOOR (build/bench-fuse-floor), TMPDIR (where the
# work folder goes: about 400 MiB), BENCH_KEEP=1 keeps the work folder.
# Clean-up (also on failure or ^C): the floor stopped by pid and
# unmounted, the work folder removed.

set -u
export LC_ALL=C

BENCH=fuse_floor.sh
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"

RUNS=${RUNS:-3}
FLOOR=${FLOOR:-$REPO/build/bench-fuse-floor}
IMPORT_LOCAL=${IMPORT_LOCAL:-2.86}
IMPORT_WRITES=${IMPORT_WRITES:-1527808}
need_count RUNS "$RUNS"
need_count IMPORT_WRITES "$IMPORT_WRITES"
[[ $(id -u) -eq 0 ]] || die "needs root (FUSE mounts)"
[[ -x $FLOOR ]] || die "no floor at $FLOOR; run make first or set FLOOR"
for c in tar dd truncate fusermount3; do
	command -v "$c" >/dev/null 2>&1 || die "needs $c"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vdc-bench-floor.XXXXXX") || die "cannot make a work folder"
MNT=$WORK/mnt
PID=
mkdir "$MNT" || die "cannot make $MNT"

cleanup() {
	if [[ -n $PID ]]; then
		fuse_stop "$PID" "$MNT"
	fi
	work_remove "$WORK" "$MNT"
}
bench_traps

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
now_us() { echo "${EPOCHREALTIME/./}"; }
# timed CMD...: run CMD, print its wall time in seconds; die if it fails.
timed() {
	local t0 t1

	t0=$(now_us)
	"$@" >/dev/null || die "failed: $*"
	t1=$(now_us)
	awk -v us=$((t1 - t0)) 'BEGIN { printf "%.3f\n", us / 1e6 }'
}

# floor_start [-s]: mount a fresh floor on $MNT, in the foreground of a
# background job (its pid in PID, its stderr in $WORK/floor.log); wait
# until it answers.
floor_start() {
	local i

	"$FLOOR" -f "$@" "$MNT" 2>"$WORK/floor.log" &
	PID=$!
	for ((i = 0; i < 100; i++)); do
		if is_mounted "$MNT" && [[ -d $MNT/. ]]; then
			return 0
		fi
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	die "the floor did not mount: $(cat "$WORK/floor.log")"
}

# floor_stop: unmount the floor; WRITES becomes the WRITE requests it
# counted. Not in a subshell: only this shell can wait for its child.
floor_stop() {
	fuse_stop "$PID" "$MNT"
	PID=
	WRITES=$(sed -n 's/^bench-fuse-floor: \([0-9]*\) writes.*/\1/p' "$WORK/floor.log")
}

# ---- the archive ----

# sparse FILE OFFSET_MIB:COUNT_MIB...: a sparse file of 1G with COUNT_MIB
# of random bytes at each OFFSET_MIB.
sparse() {
	local f=$1 part

	shift
	truncate -s 1G "$f" || return 1
	for part in "$@"; do
		dd if=/dev/urandom of="$f" bs=1M seek="${part%:*}" count="${part#*:}" \
			iflag=fullblock conv=notrunc status=none || return 1
	done
}
SRC=$WORK/src
mkdir -p "$SRC/instances/w1" "$SRC/instances/w2" "$SRC/images/small" "$SRC/volumes/v1" || die "cannot make $SRC"
if ! { sparse "$SRC/instances/w1/disk" 0:32 512:40 &&
	sparse "$SRC/instances/w2/disk" 100:48 900:16 &&
	sparse "$SRC/volumes/v1/data" 300:64; }; then
	die "cannot make the sparse files"
fi
for d in instances/w1 instances/w2 volumes/v1; do
	echo 1G >"$SRC/$d/size"
	echo "a note of $d" >"$SRC/$d/description"
done
ln -s ../../images/small "$SRC/instances/w1/image"
ln -s ../../images/small "$SRC/instances/w2/image"
: >"$SRC/images/small/empty"
dd if=/dev/urandom of="$SRC/images/small/data" bs=1K count=64 status=none
tar --sparse -cf "$WORK/a.tar" -C "$SRC" . || die "tar c of $SRC failed"
DATA_MIB=$(du -sm --apparent-size "$WORK/a.tar" | cut -f1)
rm -rf "$SRC"
dd if=/dev/urandom of="$WORK/16m" bs=1M count=16 status=none
cat "$WORK/a.tar" "$WORK/16m" >/dev/null

LOCAL=$WORK/local
echo "$BENCH: $(nproc) cpus, kernel $(uname -r), libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?')," \
	"$(tar --version | head -n 1), $(df --output=fstype "$WORK" | tail -n 1) under $WORK," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$BENCH: archive of $DATA_MIB MiB: 3 sparse files of 1G holding 200 MiB, 10 small files and links"

# ---- tar's writes ----

STRACED=-
if command -v strace >/dev/null 2>&1; then
	rm -rf "$LOCAL" && mkdir "$LOCAL"
	STRACED=$(strace -c -f -e trace=write tar -xf "$WORK/a.tar" -C "$LOCAL" 2>&1 >/dev/null |
		awk '$NF == "write" { print $4 }')
fi

# ---- the rounds ----

: >"$WORK/times"
for ((r = 1; r <= RUNS; r++)); do
	rm -rf "$LOCAL" && mkdir "$LOCAL" && sync
	t_local=$(timed tar -xf "$WORK/a.tar" -C "$LOCAL")

	floor_start && sync
	t_mt=$(timed tar -xf "$WORK/a.tar" -C "$MNT")
	floor_stop
	w_mt=$WRITES

	floor_start -s && sync
	t_st=$(timed tar -xf "$WORK/a.tar" -C "$MNT")
	floor_stop
	w_st=$WRITES

	rm -f "$WORK/dd.local" && sync
	t_dd_local=$(timed dd if="$WORK/16m" of="$WORK/dd.local" bs=512 status=none)
	floor_start && sync
	t_dd_floor=$(timed dd if="$WORK/16m" of="$MNT/dd" bs=512 status=none)
	t_dd_1m=$(timed dd if="$WORK/16m" of="$MNT/dd1m" bs=1M status=none)
	floor_stop
	w_dd=$WRITES

	echo "$t_local $t_mt $t_st $t_dd_local $t_dd_floor $t_dd_1m $w_mt $w_st $w_dd" >>"$WORK/times"
	echo "$BENCH: round $r: tar -xf local $t_local s, floor mt $t_mt s ($w_mt writes), st $t_st s ($w_st writes);" \
		"16 MiB dd bs=512 local $t_dd_local s, floor $t_dd_floor s, bs=1M floor $t_dd_1m s ($w_dd writes)"
done

col() { awk -v c="$1" '{ print $c }' "$WORK/times" | median; }
best() { awk -v c="$1" '{ print $c }' "$WORK/times" | sort -g | head -n 1; }
local_s=$(col 1) mt=$(col 2) st=$(col 3) dd_local=$(col 4) dd_floor=$(col 5)
writes=$(col 7) dd_writes=$(col 9)
# us_per ADDED_S BASE_S WRITES: microseconds per write of ADDED_S - BASE_S.
us_per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.1f", (a - b) * 1e6 / n; else print "nan" }'; }
# row NAME COLUMN LOCAL_COLUMN: the median and best of COLUMN, and their
# ratios to the median and best of LOCAL_COLUMN.
row() {
	printf '%-42s %8s %8s %8s %8s %8s %8s\n' "$1" "$(col "$2")" "$(col "$3")" "$(ratio "$(col "$2")" "$(col "$3")")" \
		"$(best "$2")" "$(best "$3")" "$(ratio "$(best "$2")" "$(best "$3")")"
}

echo
printf '%-42s %8s %8s %8s %8s %8s %8s\n' "seconds, of $RUNS runs" median local ratio best local ratio
row "tar -xf into a local folder" 1 1
row "tar -xf into the floor, multi-threaded" 2 1
row "tar -xf into the floor, single-threaded" 3 1
row "16 MiB, dd bs=512 into the floor (mt)" 5 4
row "16 MiB, dd bs=1M into the floor (mt)" 6 4
echo
echo "$BENCH: writes: $writes WRITE requests per tar -xf (floor's count; tar's write(2)s by strace: $STRACED);" \
	"$dd_writes for the two dd (32768 + 16 expected)"
echo "$BENCH: per write, multi-threaded: $(us_per "$mt" 0 "$writes") us of the floor's time," \
	"$(us_per "$mt" "$local_s" "$writes") us more than local; single-threaded: $(us_per "$st" 0 "$writes") us," \
	"$(us_per "$st" "$local_s" "$writes") us more; dd bs=512: $(us_per "$dd_floor" 0 32768) us," \
	"$(us_per "$dd_floor" "$dd_local" 32768) us more than local"
awk -v l="$IMPORT_LOCAL" -v n="$IMPORT_WRITES" -v mt="$mt" -v st="$st" -v loc="$local_s" -v w="$writes" 'BEGIN {
	if (w <= 0) exit
	pm = l + n * (mt - loc) / w
	ps = l + n * (st - loc) / w
	printf "%s: projected import (%.2f s local, %d writes): floor mt %.1f s, ratio %.1f; st %.1f s, ratio %.1f (target <= 2)\n",
		"'"$BENCH"'", l, n, pm, pm / l, ps, ps / l
}'
echo "$BENCH: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
