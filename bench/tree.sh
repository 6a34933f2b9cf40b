#!/bin/bash
#
# bench/tree.sh: how fast the tree serves the everyday shell workflows,
# against tmpfs measured in the same run.
#
#   bench/tree.sh [N]          (or N=... bench/tree.sh; default 10000)
#
# It builds nothing: it runs $VDCFS (default build/vdcfs) and $MKINSTANCES
# (default build/mkinstances), relative to the repository root, copied at
# the start so that a rebuild during the run cannot mix two builds. It needs
# root, for `mount -t tmpfs`.
#
# It mounts a private vdcfs (state in a fresh folder under /var/tmp, on
# disk) and a private tmpfs, and measures each workflow on both:
#
#   create   mkinstances DIR N: mkdir and three attribute writes per instance
#   tar c    tar --exclude-caches -cf FILE -C ROOT .   (FILE on disk)
#   ls -l    ls -l ROOT/instances > /dev/null
#   cat      cat instances/*/run/state > /dev/null     (from ROOT/instances)
#
# The tmpfs tree for tar, ls and cat is a copy of the vdcfs tree (run/
# folders and their CACHEDIR.TAG included), so both hold the same files; the
# two tar listings are compared to prove it. Page caches cannot be dropped
# for a fair FUSE comparison, so vdcfs is remounted before each of tar, ls
# and cat: its kernel caches start empty and the first run is cold. tmpfs
# has no cold state: it is its own cache. Each workflow runs $RUNS times,
# vdcfs and tmpfs alternately so that other load on the machine hits both
# alike; a line reports the medians, the first runs and every run. Creation
# runs once on each (a second run would measure a bigger tree).
#
# Ratios are vdcfs/tmpfs: for rates a fraction (higher is better), for
# times a factor (lower is better). This is a benchmark: it reports numbers
# and exits 0 when every command worked, whether or not a target is met.
#
# Environment: N, VDCFS, MKINSTANCES, VDCFS_OPTS (extra vdcfs options, for
# comparing configurations, e.g. "-s" or "-o clone_fd"), RUNS (default 3),
# BENCH_TIMEOUT (seconds for the whole run, default 900; on expiry the vdcfs
# it started is killed so nothing hangs), BENCH_KEEP=1 (keep the work folder).
#
# bench/opcodes.sh counts the FUSE requests behind each of these workflows.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-${N:-10000}}
VDCFS=${VDCFS:-$REPO/build/vdcfs}
MKINSTANCES=${MKINSTANCES:-$REPO/build/mkinstances}
RUNS=${RUNS:-3}
read -r -a VDCFS_OPTS <<<"${VDCFS_OPTS:-}"
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}

# The targets vdcfs is held to: an absolute creation rate, and for the read
# workflows a factor of the tmpfs time.
CREATE_TARGET=2000      # inst/s, absolute
TIME_TARGET=3           # vdcfs time / tmpfs time

die() { echo "tree.sh: $*" >&2; exit 1; }

[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || die "N must be a positive whole number, not '$N'"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -gt 0 ]] || die "RUNS must be a positive whole number, not '$RUNS'"
[[ -x $VDCFS ]] || die "no vdcfs at $VDCFS; run make first or set VDCFS"
[[ -x $MKINSTANCES ]] || die "no mkinstances at $MKINSTANCES; run make first or set MKINSTANCES"
[[ $(id -u) -eq 0 ]] || die "needs root to mount a private tmpfs"

WORK=$(mktemp -d /var/tmp/vdcfs-bench.XXXXXX)
if [[ $(stat -f -c %T "$WORK") == tmpfs ]]; then
	rmdir "$WORK"
	die "/var/tmp is tmpfs here; the vdcfs state and tar output must be on disk"
fi
STATE=$WORK/state
MNT=$WORK/mnt
TMPFS=$WORK/tmpfs
OUT=$WORK/out
mkdir -p "$MNT" "$TMPFS" "$OUT" "$WORK/bin"
VDCFS_SRC=$(realpath "$VDCFS")
cp "$VDCFS" "$WORK/bin/vdcfs"
cp "$MKINSTANCES" "$WORK/bin/mkinstances"
VDCFS=$WORK/bin/vdcfs
MKINSTANCES=$WORK/bin/mkinstances

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

	"$VDCFS" -f "${VDCFS_OPTS[@]}" -o state="$STATE" "$MNT" 2>>"$WORK/vdcfs.log" &
	VDCFS_PID=$!
	echo "$VDCFS_PID" >"$WORK/vdcfs.pid"
	for ((i = 0; i < 100; i++)); do
		if is_mounted "$MNT" && [[ -d $MNT/instances ]]; then
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

# run_once KEY WORKLOAD ROOT: time one run; appends seconds to TIMES[KEY].
declare -A TIMES=()
run_once() {
	local key=$1 wl=$2 root=$3 t0

	[[ $wl == wl_tar ]] && rm -f "$OUT/$key.tar"
	TAR_OUT=$OUT/$key.tar
	sync -f "$OUT" 2>/dev/null || true
	t0=$EPOCHREALTIME
	"$wl" "$root" || die "$wl on $root failed"
	TIMES[$key]+="$(elapsed "$t0") "
}

# measure NAME WORKLOAD: $RUNS runs on a freshly mounted vdcfs and on the
# tmpfs copy, alternating; the times are in TIMES[v_NAME] and TIMES[t_NAME].
measure() {
	local name=$1 wl=$2 i

	vdcfs_remount
	for ((i = 0; i < RUNS; i++)); do
		run_once "v_$name" "$wl" "$MNT"
		run_once "t_$name" "$wl" "$TMPFS/copy"
	done
}

# first KEY, median KEY, runs KEY: figures from TIMES[KEY].
first() {
	local -a t

	read -r -a t <<<"${TIMES[$1]}"
	echo "${t[0]}"
}
median() {
	local -a t

	read -r -a t <<<"${TIMES[$1]}"
	printf '%s\n' "${t[@]}" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
runs() {
	local -a t
	local x out=

	read -r -a t <<<"${TIMES[$1]}"
	for x in "${t[@]}"; do
		out+="${out:+, }$(fmt_s "$x")"
	done
	echo "$out"
}

# report LABEL NAME: print the lines for the timed workflow NAME.
declare -a SUMMARY=()
report() {
	local label=$1 vkey=v_$2 tkey=t_$2 vm tm r ok

	vm=$(median "$vkey")
	tm=$(median "$tkey")
	r=$(ratio "$vm" "$tm")
	ok=$(verdict "$r" "$TIME_TARGET" le)
	printf '%-7s vdcfs %s, tmpfs %s, ratio %sx (target <= %sx): %s\n' "$label:" \
		"$(fmt_s "$vm")" "$(fmt_s "$tm")" "$r" "$TIME_TARGET" "$ok"
	printf '        runs: vdcfs %s (first from a fresh mount); tmpfs %s\n' "$(runs "$vkey")" "$(runs "$tkey")"
	SUMMARY+=("$(printf '%-7s %14s %14s %14s %14s %9s  %-16s %s' "$label" \
		"$(fmt_s "$vm")" "$(fmt_s "$(first "$vkey")")" "$(fmt_s "$tm")" "$(fmt_s "$(first "$tkey")")" \
		"${r}x" "<= ${TIME_TARGET}x" "$ok")")
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- setup ----

mount -t tmpfs -o mode=0755 vdcfs-bench "$TMPFS"
TMPFS_MOUNTED=1
vdcfs_start

LOAD_START=$(loadavg)
echo "tree.sh: N=$N, runs=$RUNS, $(nproc) cpus, kernel $(uname -r), load average $LOAD_START"
echo "tree.sh: vdcfs $VDCFS_SRC${VDCFS_OPTS[*]:+ (options ${VDCFS_OPTS[*]})}, state on $(stat -f -c %T "$STATE")"
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

# ---- the tmpfs copy: the same tree, run/ folders included ----

# tar exits 1 when a file changed while it was read (run/ is live state):
# that is a warning here, not a failure.
t0=$EPOCHREALTIME
mkdir "$TMPFS/copy"
COPY_NOTE=
rc=0
tar -cf "$OUT/full.tar" -C "$MNT" . 2>"$OUT/full.err" || rc=$?
if ((rc == 1)); then
	COPY_NOTE="; tar c of the whole tree (run/ included) exited 1: $(head -n 1 "$OUT/full.err")"
elif ((rc != 0)); then
	cat "$OUT/full.err" >&2
	die "archiving the whole vdcfs tree failed"
fi
tar -xpf "$OUT/full.tar" -C "$TMPFS/copy" || die "copying the vdcfs tree to tmpfs failed"
rm -f "$OUT/full.tar"
COPY_S=$(elapsed "$t0")
[[ -f $TMPFS/copy/instances/i0/run/state && -f $TMPFS/copy/instances/i0/run/CACHEDIR.TAG ]] ||
	die "the tmpfs copy has no instances/i0/run/state and CACHEDIR.TAG"

# ---- b, c. tar, ls -l, cat ----

measure tar wl_tar
measure ls wl_ls
measure cat wl_cat

tar -tf "$OUT/v_tar.tar" | sort >"$OUT/vdcfs.list"
tar -tf "$OUT/t_tar.tar" | sort >"$OUT/tmpfs.list"
if cmp -s "$OUT/vdcfs.list" "$OUT/tmpfs.list"; then
	SAME="both tar archives list the same $(wc -l <"$OUT/vdcfs.list") entries"
else
	SAME="WARNING: the tar archives differ ($(wc -l <"$OUT/vdcfs.list") vs $(wc -l <"$OUT/tmpfs.list") entries)"
fi
TAR_BYTES=$(stat -c %s "$OUT/v_tar.tar")

report "tar c" tar
report "ls -l" ls
report "cat" cat

echo
echo "summary (N=$N instances; times are the median of $RUNS runs; vdcfs first run from a fresh mount)"
printf '%-7s %14s %14s %14s %14s %9s  %-16s %s\n' figure vdcfs "vdcfs first" tmpfs "tmpfs first" ratio target verdict
printf '%s\n' "${SUMMARY[@]}"
echo "tree: $SAME, $TAR_BYTES bytes; copy to tmpfs took $(fmt_s "$COPY_S")$COPY_NOTE"
echo "load average: $LOAD_START at start, $(loadavg) at end (other work on the machine skews both sides)"
