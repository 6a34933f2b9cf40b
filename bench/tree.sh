#!/bin/bash
#
# bench/tree.sh: how fast the tree serves the everyday shell workflows,
# against tmpfs measured in the same run.
#
#   bench/tree.sh [N]          (or N=... bench/tree.sh; default 10000)
#
# It builds nothing: it runs $VDCFS (default build/vdcfs) and $MKINSTANCES
# (default build/mkinstances), relative to the repository root. It needs
# root, for `mount -t tmpfs`.
#
# It mounts a private vdcfs (state in a fresh folder under /var/tmp, on
# disk) and a private tmpfs, and measures each workflow on both:
#
#   create   mkinstances DIR N: mkdir and three attribute writes per instance
#   tar c    tar --exclude-caches -cf FILE -C ROOT .   (FILE on disk)
#   ls -l    ls -l ROOT/instances > /dev/null
#   cat      cat instances/*/run/state > /dev/null
#
# The tmpfs tree for tar, ls and cat is a copy of the vdcfs tree (run/
# folders and their CACHEDIR.TAG included), so both hold the same files; the
# two tar listings are compared to prove it. Page caches cannot be dropped
# for a fair FUSE comparison, so vdcfs is remounted before each of tar, ls
# and cat (its kernel caches start empty: the first run is cold) and each is
# run 3 times; the line reports the median and the first run. tmpfs has no
# cold state: it is its own cache. Creation runs once on each.
#
# Ratios are vdcfs/tmpfs: for rates a fraction (higher is better), for
# times a factor (lower is better). This is a benchmark: it reports numbers
# and exits 0 when every command worked, whether or not a target is met.
#
# Environment: N, VDCFS, MKINSTANCES, RUNS (default 3), BENCH_TIMEOUT
# (seconds for the whole run, default 900; on expiry the vdcfs it started
# is killed so nothing hangs), BENCH_KEEP=1 (keep the work folder).

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-${N:-10000}}
VDCFS=${VDCFS:-$REPO/build/vdcfs}
MKINSTANCES=${MKINSTANCES:-$REPO/build/mkinstances}
RUNS=${RUNS:-3}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}

# Targets (docs: vdcfs should stay within these of plain tmpfs).
CREATE_TARGET=2000      # inst/s, absolute
TIME_TARGET=3           # vdcfs time / tmpfs time

die() { echo "tree.sh: $*" >&2; exit 1; }

[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || die "N must be a positive whole number, not '$N'"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -gt 0 ]] || die "RUNS must be a positive whole number, not '$RUNS'"
[[ -x $VDCFS ]] || die "no vdcfs at $VDCFS; run make first or set VDCFS"
[[ -x $MKINSTANCES ]] || die "no mkinstances at $MKINSTANCES; run make first or set MKINSTANCES"
[[ $(id -u) -eq 0 ]] || die "needs root to mount a private tmpfs"
VDCFS=$(realpath "$VDCFS")
MKINSTANCES=$(realpath "$MKINSTANCES")

WORK=$(mktemp -d /var/tmp/vdcfs-bench.XXXXXX)
if [[ $(stat -f -c %T "$WORK") == tmpfs ]]; then
	rmdir "$WORK"
	die "/var/tmp is tmpfs here; the vdcfs state and tar output must be on disk"
fi
STATE=$WORK/state
MNT=$WORK/mnt
TMPFS=$WORK/tmpfs
OUT=$WORK/out
mkdir -p "$MNT" "$TMPFS" "$OUT"

VDCFS_PID=
WATCHDOG_PID=
TMPFS_MOUNTED=

# is_mounted DIR: whether DIR is a mount point (also when its FUSE server died).
is_mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

cleanup() {
	local rc=$?

	set +e
	if [[ -n $WATCHDOG_PID ]]; then
		kill "$WATCHDOG_PID" 2>/dev/null
		wait "$WATCHDOG_PID" 2>/dev/null
	fi
	vdcfs_stop
	if [[ -n $TMPFS_MOUNTED ]]; then
		umount "$TMPFS" || umount -l "$TMPFS"
	fi
	if [[ ${BENCH_KEEP:-} == 1 ]]; then
		echo "tree.sh: kept $WORK" >&2
	elif is_mounted "$MNT" || is_mounted "$TMPFS"; then
		echo "tree.sh: $MNT or $TMPFS is still mounted; left $WORK in place" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Start the private vdcfs in the foreground of a background job, so its pid
# is ours to stop, and wait until the mount answers.
vdcfs_start() {
	local i

	"$VDCFS" -f -o state="$STATE" "$MNT" 2>>"$WORK/vdcfs.log" &
	VDCFS_PID=$!
	echo "$VDCFS_PID" >"$WORK/vdcfs.pid"
	for ((i = 0; i < 100; i++)); do
		if mountpoint -q "$MNT" && [[ -d $MNT/instances ]]; then
			return 0
		fi
		kill -0 "$VDCFS_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$WORK/vdcfs.log" >&2
	die "vdcfs did not come up on $MNT"
}

# Unmount and wait for our vdcfs to exit; kill it (by pid) if it will not.
vdcfs_stop() {
	local i

	[[ -n $VDCFS_PID ]] || return 0
	if is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || true
	fi
	for ((i = 0; i < 50; i++)); do
		kill -0 "$VDCFS_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$VDCFS_PID" 2>/dev/null; then
		kill "$VDCFS_PID" 2>/dev/null || true
	fi
	wait "$VDCFS_PID" 2>/dev/null || true
	if is_mounted "$MNT"; then
		fusermount3 -uz "$MNT" 2>/dev/null || true
	fi
	VDCFS_PID=
	rm -f "$WORK/vdcfs.pid"
}

# Empty the kernel's caches of the mount by mounting it afresh.
vdcfs_remount() {
	vdcfs_stop
	vdcfs_start
}

# A watchdog for the whole run: a hung request must not hang the benchmark.
# It kills only the vdcfs this script started (its pid is in vdcfs.pid).
(
	trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
	sleep "$BENCH_TIMEOUT" &
	sleeper=$!
	wait "$sleeper"
	echo "tree.sh: no result after ${BENCH_TIMEOUT}s; stopping vdcfs" >&2
	if [[ -s $WORK/vdcfs.pid ]]; then
		kill "$(cat "$WORK/vdcfs.pid")" 2>/dev/null
	fi
) &
WATCHDOG_PID=$!

# ---- timing helpers ----

# elapsed START: seconds since START (an EPOCHREALTIME value), 6 decimals.
elapsed() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'
}

# median V...: the median of a few numbers.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# fmt_s SECONDS: a time for humans.
fmt_s() {
	awk -v t="$1" 'BEGIN { if (t < 1) printf "%.1f ms", t * 1000; else printf "%.2f s", t }'
}

# ratio A B: A/B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}

# verdict VALUE TARGET le|ge: whether a figure meets its target.
verdict() {
	awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
		ok = (v == "inf") ? 0 : (op == "le" ? v <= t : v >= t)
		print ok ? "meets target" : "MISSES target" }'
}

# The three read workflows, each a function of the tree's root so that
# vdcfs and tmpfs run exactly the same commands. $TAR_OUT is set by caller.
wl_tar() { tar --exclude-caches -cf "$TAR_OUT" -C "$1" .; }
wl_ls() { ls -l "$1/instances" >/dev/null; }
wl_cat() { (cd "$1/instances" && cat -- */run/state >/dev/null); }

# measure KEY WORKLOAD ROOT: run it $RUNS times; keeps the first run and
# the median (seconds) in FIRST[KEY] and MEDIAN[KEY], every run for humans
# in ALL[KEY].
declare -A FIRST=() MEDIAN=() ALL=()
measure() {
	local key=$1 wl=$2 root=$3 t0 i
	local -a times=()

	for ((i = 0; i < RUNS; i++)); do
		[[ $wl == wl_tar ]] && rm -f "$TAR_OUT"
		sync -f "$OUT" 2>/dev/null || true
		t0=$EPOCHREALTIME
		"$wl" "$root" || die "$wl on $root failed"
		times+=("$(elapsed "$t0")")
	done
	FIRST[$key]=${times[0]}
	MEDIAN[$key]=$(median "${times[@]}")
	ALL[$key]=$(for t in "${times[@]}"; do fmt_s "$t"; echo; done | paste -sd ' ' -)
}

# report LABEL KEY: print the line for the timed workflow KEY (v_KEY, t_KEY).
declare -a SUMMARY=()
report() {
	local label=$1 v=v_$2 t=t_$2 r ok

	r=$(ratio "${MEDIAN[$v]}" "${MEDIAN[$t]}")
	ok=$(verdict "$r" "$TIME_TARGET" le)
	printf '%-7s vdcfs %s, tmpfs %s, ratio %sx (target <= %sx): %s\n' "$label:" \
		"$(fmt_s "${MEDIAN[$v]}")" "$(fmt_s "${MEDIAN[$t]}")" "$r" "$TIME_TARGET" "$ok"
	printf '        runs: vdcfs %s; tmpfs %s\n' "${ALL[$v]}" "${ALL[$t]}"
	SUMMARY+=("$(printf '%-7s %14s %14s %14s %14s %9s  %-16s %s' "$label" \
		"$(fmt_s "${MEDIAN[$v]}")" "$(fmt_s "${FIRST[$v]}")" \
		"$(fmt_s "${MEDIAN[$t]}")" "$(fmt_s "${FIRST[$t]}")" \
		"${r}x" "<= ${TIME_TARGET}x" "$ok")")
}

# ---- setup ----

mount -t tmpfs -o mode=0755 vdcfs-bench "$TMPFS"
TMPFS_MOUNTED=1
vdcfs_start

echo "tree.sh: N=$N, runs=$RUNS, $(nproc) cpus, kernel $(uname -r)"
echo "tree.sh: vdcfs $VDCFS, state on $(stat -f -c %T "$STATE") ($STATE)"
echo "tree.sh: tar output on $(stat -f -c %T "$OUT"), reference on tmpfs"
echo

# ---- a. create ----

mkrate() {
	local dir=$1 line

	line=$("$MKINSTANCES" "$dir" "$N") || die "mkinstances $dir $N failed"
	# "mkinstances: N instances in S s, R inst/s"
	read -r _ _ _ _ CREATE_S _ CREATE_RATE _ <<<"$line"
	[[ -n $CREATE_RATE ]] || die "cannot parse mkinstances output: $line"
}

mkrate "$MNT/instances"
V_CREATE_S=$CREATE_S V_CREATE_RATE=$CREATE_RATE
mkdir "$TMPFS/create"
mkdir "$TMPFS/create/instances"
mkrate "$TMPFS/create/instances"
T_CREATE_S=$CREATE_S T_CREATE_RATE=$CREATE_RATE
rm -rf "$TMPFS/create"
r=$(ratio "$V_CREATE_RATE" "$T_CREATE_RATE")
v=$(verdict "$V_CREATE_RATE" "$CREATE_TARGET" ge)
printf 'create: vdcfs %s inst/s (%s s), tmpfs %s inst/s (%s s), ratio %s (target >= %s inst/s): %s\n' \
	"$V_CREATE_RATE" "$V_CREATE_S" "$T_CREATE_RATE" "$T_CREATE_S" "$r" "$CREATE_TARGET" "$v"
SUMMARY+=("$(printf '%-7s %14s %14s %14s %14s %9s  %-16s %s' create \
	"$V_CREATE_RATE inst/s" "-" "$T_CREATE_RATE inst/s" "-" "$r" ">= $CREATE_TARGET inst/s" "$v")")

# ---- b, c. tar, ls -l, cat on vdcfs, each from a cold mount ----

TAR_OUT=$OUT/vdcfs.tar
vdcfs_remount
measure v_tar wl_tar "$MNT"
tar -tf "$TAR_OUT" | sort >"$OUT/vdcfs.list"

vdcfs_remount
measure v_ls wl_ls "$MNT"

vdcfs_remount
measure v_cat wl_cat "$MNT"

# ---- the tmpfs copy: the same tree, run/ folders included ----

# tar exits 1 when a file changed while it was read (run/ is live state):
# that is a warning here, not a failure.
t0=$EPOCHREALTIME
mkdir "$TMPFS/copy"
COPY_NOTE=
rc=0
tar -cf "$OUT/full.tar" -C "$MNT" . 2>"$OUT/full.err" || rc=$?
if ((rc == 1)); then
	COPY_NOTE="; note: tar c of the full tree exited 1: $(head -n 1 "$OUT/full.err")"
elif ((rc != 0)); then
	cat "$OUT/full.err" >&2
	die "archiving the whole vdcfs tree failed"
fi
tar -xpf "$OUT/full.tar" -C "$TMPFS/copy" || die "copying the vdcfs tree to tmpfs failed"
rm -f "$OUT/full.tar"
COPY_S=$(elapsed "$t0")
[[ -f $TMPFS/copy/instances/i0/run/state && -f $TMPFS/copy/instances/i0/run/CACHEDIR.TAG ]] ||
	die "the tmpfs copy has no instances/i0/run/state and CACHEDIR.TAG"

TAR_OUT=$OUT/tmpfs.tar
measure t_tar wl_tar "$TMPFS/copy"
tar -tf "$TAR_OUT" | sort >"$OUT/tmpfs.list"
measure t_ls wl_ls "$TMPFS/copy"
measure t_cat wl_cat "$TMPFS/copy"

if cmp -s "$OUT/vdcfs.list" "$OUT/tmpfs.list"; then
	SAME="both archives list the same $(wc -l <"$OUT/vdcfs.list") entries"
else
	SAME="WARNING: the archives differ ($(wc -l <"$OUT/vdcfs.list") vs $(wc -l <"$OUT/tmpfs.list") entries)"
fi
TAR_BYTES=$(stat -c %s "$OUT/vdcfs.tar")

report "tar c" tar
report "ls -l" ls
report "cat" cat

echo
echo "summary (N=$N instances; times are the median of $RUNS runs, vdcfs first run from a fresh mount)"
printf '%-7s %14s %14s %14s %14s %9s  %-16s %s\n' figure vdcfs "vdcfs first" tmpfs "tmpfs first" ratio target verdict
printf '%s\n' "${SUMMARY[@]}"
echo "tree: $SAME; archive $TAR_BYTES bytes; copy to tmpfs took $(fmt_s "$COPY_S")$COPY_NOTE"
