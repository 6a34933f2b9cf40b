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
# A second, optional reference gives the cost of the FUSE transport itself:
# the same tmpfs copy served through libfuse's own passthrough_ll example, a
# minimal FUSE filesystem. Its source (shipped by libfuse3-dev) is compiled
# into the work folder at the start, never into the repository, and mounted
# with -o source=<tmpfs copy>,timeout=60 (a minute of entry and attribute
# caching, as vdcfs has) on a private mount point. It runs tar, ls and cat
# alongside vdcfs and tmpfs, remounted before each like vdcfs, and adds a
# line per workflow and a small table: vdcfs/passthrough tells what vdcfs
# costs over a FUSE filesystem that does nothing, passthrough/tmpfs what
# FUSE itself costs. passthrough_ll keeps a descriptor open for each inode
# the kernel has looked up, and with timeout=60 the kernel keeps them all,
# so it needs an open-file limit of about one per entry of the tree (some
# 19 per instance): the soft limit is raised up to the hard one for it.
# When the source is missing or does not build, or the limit cannot cover
# the tree, a line says the reference is skipped and the rest runs as before.
#
# Environment: N, VDCFS, MKINSTANCES, VDCFS_OPTS (extra vdcfs options, for
# comparing configurations, e.g. "-s" or "-o clone_fd"), RUNS (default 3),
# BENCH_TIMEOUT (seconds for the whole run, default 900; on expiry the vdcfs
# and passthrough_ll it started are killed so nothing hangs), BENCH_KEEP=1
# (keep the work folder), PASSTHROUGH=0 (skip the FUSE passthrough reference),
# PASSTHROUGH_SRC (the folder holding passthrough_ll.c and
# passthrough_helpers.h, plain or .gz; default
# /usr/share/doc/libfuse3-dev/examples).
#
# bench/opcodes.sh counts the FUSE requests behind each of these workflows.

set -euo pipefail

BENCH=tree.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${1:-${N:-10000}}
RUNS=${RUNS:-3}
read -r -a VDCFS_OPTS <<<"${VDCFS_OPTS:-}"
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
PASSTHROUGH=${PASSTHROUGH:-1}
PASSTHROUGH_SRC=${PASSTHROUGH_SRC:-/usr/share/doc/libfuse3-dev/examples}

# The targets vdcfs is held to: an absolute creation rate, and for the read
# workflows a factor of the tmpfs time.
CREATE_TARGET=2000      # inst/s, absolute
TIME_TARGET=3           # vdcfs time / tmpfs time

need_count N "$N"
need_count RUNS "$RUNS"
[[ $PASSTHROUGH == [01] ]] || die "PASSTHROUGH must be 0 or 1, not '$PASSTHROUGH'"
need_builds
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
PT_MNT=$WORK/ptmnt
PT_DIR=$WORK/passthrough
mkdir -p "$MNT" "$TMPFS" "$OUT" "$WORK/bin" "$PT_MNT"
VDCFS_SRC=$(realpath "$VDCFS")
cp "$VDCFS" "$WORK/bin/vdcfs"
cp "$MKINSTANCES" "$WORK/bin/mkinstances"
VDCFS=$WORK/bin/vdcfs
MKINSTANCES=$WORK/bin/mkinstances

VDCFS_PID=
PT_PID=
PT_ON=
PT_NOTE=
PT_NOFILE=
WATCHDOG_PID=
TMPFS_MOUNTED=

# cleanup: at exit (bench_traps), stop what this run started and remove
# the work folder.
cleanup() {
	if [[ -n $WATCHDOG_PID ]]; then
		kill "$WATCHDOG_PID" 2>/dev/null
		wait "$WATCHDOG_PID" 2>/dev/null
	fi
	vdcfs_stop
	# passthrough_ll holds the tmpfs copy open: it goes before the tmpfs.
	passthrough_stop
	if [[ -n $TMPFS_MOUNTED ]]; then
		umount "$TMPFS" || umount -l "$TMPFS"
	fi
	work_remove "$WORK" "$MNT" "$PT_MNT" "$TMPFS"
}
bench_traps

# Start the private vdcfs in the foreground of a background job, so its pid
# is ours to stop, and wait until the mount answers.
vdcfs_start() {
	"$VDCFS" -f "${VDCFS_OPTS[@]}" -o state="$STATE",listen=127.0.0.1:0 "$MNT" 2>>"$WORK/vdcfs.log" &
	VDCFS_PID=$!
	echo "$VDCFS_PID" >"$WORK/vdcfs.pid"
	if fuse_wait "$VDCFS_PID" "$MNT"; then
		return 0
	fi
	cat "$WORK/vdcfs.log" >&2
	die "vdcfs did not come up on $MNT"
}

# Unmount and wait for our vdcfs to exit; kill it (by pid) if it will not.
vdcfs_stop() {
	[[ -n $VDCFS_PID ]] || return 0
	fuse_stop "$VDCFS_PID" "$MNT"
	VDCFS_PID=
	rm -f "$WORK/vdcfs.pid"
}

# Empty the kernel's caches of the mount by mounting it afresh.
vdcfs_remount() {
	vdcfs_stop
	vdcfs_start
}

# ---- the FUSE transport reference: libfuse's passthrough_ll ----

# passthrough_build: compile passthrough_ll from $PASSTHROUGH_SRC into
# $PT_DIR. On failure it returns 1 with the reason in PT_NOTE.
passthrough_build() {
	local f log=$PT_DIR/build.log cflags libs
	local -a cf lf

	mkdir -p "$PT_DIR"
	: >"$log"
	for f in passthrough_ll.c passthrough_helpers.h; do
		if [[ -f $PASSTHROUGH_SRC/$f ]]; then
			cp "$PASSTHROUGH_SRC/$f" "$PT_DIR/$f" 2>>"$log" || { PT_NOTE="cannot copy $PASSTHROUGH_SRC/$f"; return 1; }
		elif [[ -f $PASSTHROUGH_SRC/$f.gz ]]; then
			gzip -dc "$PASSTHROUGH_SRC/$f.gz" >"$PT_DIR/$f" 2>>"$log" || { PT_NOTE="cannot unpack $PASSTHROUGH_SRC/$f.gz"; return 1; }
		else
			PT_NOTE="no $PASSTHROUGH_SRC/$f (package libfuse3-dev; set PASSTHROUGH_SRC)"
			return 1
		fi
	done
	if ! cflags=$(pkg-config --cflags fuse3 2>>"$log") || ! libs=$(pkg-config --libs fuse3 2>>"$log"); then
		PT_NOTE="pkg-config has no fuse3"
		return 1
	fi
	read -r -a cf <<<"$cflags"
	read -r -a lf <<<"$libs"
	if ! (cd "$PT_DIR" && cc -O2 -D_FILE_OFFSET_BITS=64 "${cf[@]}" passthrough_ll.c -o passthrough_ll "${lf[@]}") >>"$log" 2>&1 ||
		[[ ! -x $PT_DIR/passthrough_ll ]]; then
		PT_NOTE="passthrough_ll.c did not build: $(grep -m 1 -i error "$log" || head -n 1 "$log")"
		return 1
	fi
}

# passthrough_fd_limit: set PT_NOFILE to an open-file limit passthrough_ll
# can serve the whole tmpfs copy with, or return 1 with the reason in
# PT_NOTE. passthrough_ll holds an O_PATH descriptor for every inode the
# kernel has looked up until the kernel forgets it, and with timeout=60 the
# kernel keeps them all: a workflow can need one per entry of the tree.
# Raising the soft limit up to the hard one needs nothing; past it, root
# needs CAP_SYS_RESOURCE.
passthrough_fd_limit() {
	local need soft

	need=$(($(find "$TMPFS/copy" | wc -l) + 64))
	soft=$(ulimit -Sn)
	if [[ $soft == unlimited ]] || ((soft >= need)); then
		PT_NOFILE=$soft
	elif (ulimit -Sn "$need") 2>/dev/null || (ulimit -n "$need") 2>/dev/null; then
		PT_NOFILE=$need
	else
		PT_NOTE="passthrough_ll keeps a descriptor open for each inode the kernel caches (timeout=60),"
		PT_NOTE+=" up to $need for this tree, over the open-file limit here ($soft, hard $(ulimit -Hn));"
		PT_NOTE+=" raise ulimit -n or use a smaller N"
		return 1
	fi
}

# passthrough_start: serve the tmpfs copy through passthrough_ll on $PT_MNT,
# in the foreground of a background job so its pid is ours to stop, with
# its open-file limit at $PT_NOFILE. It returns 1, with the reason in
# PT_NOTE, if the mount does not answer.
passthrough_start() {
	(
		if [[ $PT_NOFILE != "$(ulimit -Sn)" ]]; then
			ulimit -Sn "$PT_NOFILE" 2>/dev/null || ulimit -n "$PT_NOFILE"
		fi
		exec "$PT_DIR/passthrough_ll" -f -o source="$TMPFS/copy",timeout=60 "$PT_MNT"
	) 2>>"$WORK/passthrough.log" &
	PT_PID=$!
	echo "$PT_PID" >"$WORK/passthrough.pid"
	if fuse_wait "$PT_PID" "$PT_MNT"; then
		return 0
	fi
	PT_NOTE="passthrough_ll did not come up on $PT_MNT: $(head -n 1 "$WORK/passthrough.log")"
	passthrough_stop
	return 1
}

passthrough_stop() {
	[[ -n $PT_PID ]] || return 0
	fuse_stop "$PT_PID" "$PT_MNT"
	PT_PID=
	rm -f "$WORK/passthrough.pid"
}

passthrough_remount() {
	passthrough_stop
	passthrough_start || die "$PT_NOTE"
}

# A watchdog for the whole run: a hung request must not hang the benchmark.
# It kills only the vdcfs and passthrough_ll this script started (their
# pids are in vdcfs.pid and passthrough.pid).
(
	trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
	sleep "$BENCH_TIMEOUT" &
	sleeper=$!
	wait "$sleeper"
	echo "tree.sh: no result after ${BENCH_TIMEOUT}s; stopping vdcfs and passthrough_ll" >&2
	for pidfile in "$WORK/vdcfs.pid" "$WORK/passthrough.pid"; do
		if [[ -s $pidfile ]]; then
			kill "$(cat "$pidfile")" 2>/dev/null
		fi
	done
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

# The three read workflows are wl_tar, wl_ls and wl_cat of bench/lib.sh,
# each a function of the tree's root so that vdcfs and tmpfs run exactly the
# same commands. run_once sets $TAR_OUT.

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
# With the passthrough reference on, a freshly mounted passthrough_ll takes
# its turn after tmpfs, in TIMES[p_NAME].
measure() {
	local name=$1 wl=$2 i

	vdcfs_remount
	if [[ -n $PT_ON ]]; then
		passthrough_remount
	fi
	for ((i = 0; i < RUNS; i++)); do
		run_once "v_$name" "$wl" "$MNT"
		run_once "t_$name" "$wl" "$TMPFS/copy"
		if [[ -n $PT_ON ]]; then
			run_once "p_$name" "$wl" "$PT_MNT"
		fi
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
	if [[ -n $PT_ON ]]; then
		report_passthrough "$label" "$2" "$vm" "$tm"
	fi
}

# report_passthrough LABEL NAME VDCFS_MEDIAN TMPFS_MEDIAN: the passthrough
# reference's lines for NAME, and its row of the passthrough table.
declare -a PT_SUMMARY=()
report_passthrough() {
	local label=$1 pkey=p_$2 vm=$3 tm=$4 pm vp pt

	pm=$(median "$pkey")
	vp=$(ratio "$vm" "$pm")
	pt=$(ratio "$pm" "$tm")
	printf '%-7s fuse passthrough %s (first %s); vdcfs/passthrough %sx; passthrough/tmpfs %sx\n' "$label:" \
		"$(fmt_s "$pm")" "$(fmt_s "$(first "$pkey")")" "$vp" "$pt"
	printf '        runs: passthrough %s (first from a fresh mount)\n' "$(runs "$pkey")"
	PT_SUMMARY+=("$(printf '%-7s %14s %18s %18s %18s' "$label" \
		"$(fmt_s "$pm")" "$(fmt_s "$(first "$pkey")")" "${vp}x" "${pt}x")")
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- setup ----

mount -t tmpfs -o mode=0755 vdcfs-bench "$TMPFS"
TMPFS_MOUNTED=1
vdcfs_start
if [[ $PASSTHROUGH == 0 ]]; then
	PT_NOTE="off (PASSTHROUGH=0)"
elif passthrough_build; then
	PT_ON=1
fi

LOAD_START=$(loadavg)
echo "tree.sh: N=$N, runs=$RUNS, $(nproc) cpus, kernel $(uname -r), load average $LOAD_START"
echo "tree.sh: vdcfs $VDCFS_SRC${VDCFS_OPTS[*]:+ (options ${VDCFS_OPTS[*]})}, state on $(stat -f -c %T "$STATE")"
echo "tree.sh: tar output on $(stat -f -c %T "$OUT"), reference on tmpfs"
if [[ -n $PT_ON ]]; then
	echo "tree.sh: fuse passthrough reference: libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?') passthrough_ll from $PASSTHROUGH_SRC, -o source=<tmpfs copy>,timeout=60"
else
	echo "tree.sh: fuse passthrough reference skipped: $PT_NOTE"
fi
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

# A first mount of the passthrough reference: a tree too big for its
# open-file limit, or a mount that does not come up, skips the reference;
# after this, a failed remount is an error.
if [[ -n $PT_ON ]] && ! { passthrough_fd_limit && passthrough_start; }; then
	PT_ON=
	echo "tree.sh: fuse passthrough reference skipped: $PT_NOTE"
fi

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
if [[ -n $PT_ON ]]; then
	tar -tf "$OUT/p_tar.tar" | sort >"$OUT/passthrough.list"
	if cmp -s "$OUT/passthrough.list" "$OUT/tmpfs.list"; then
		PT_SAME="its tar archive lists the same $(wc -l <"$OUT/passthrough.list") entries as tmpfs"
	else
		PT_SAME="WARNING: its tar archive differs from tmpfs ($(wc -l <"$OUT/passthrough.list") vs $(wc -l <"$OUT/tmpfs.list") entries)"
	fi
fi

report "tar c" tar
report "ls -l" ls
report "cat" cat

echo
echo "summary (N=$N instances; times are the median of $RUNS runs; vdcfs first run from a fresh mount)"
printf '%-7s %14s %14s %14s %14s %9s  %-16s %s\n' figure vdcfs "vdcfs first" tmpfs "tmpfs first" ratio target verdict
printf '%s\n' "${SUMMARY[@]}"
echo "tree: $SAME, $TAR_BYTES bytes; copy to tmpfs took $(fmt_s "$COPY_S")$COPY_NOTE"
if [[ -n $PT_ON ]]; then
	echo
	echo "fuse passthrough reference (libfuse passthrough_ll over the tmpfs copy, -o timeout=60; median of $RUNS runs, first run from a fresh mount)"
	printf '%-7s %14s %18s %18s %18s\n' figure passthrough "passthrough first" vdcfs/passthrough passthrough/tmpfs
	printf '%s\n' "${PT_SUMMARY[@]}"
	echo "passthrough: $PT_SAME; open-file limit $PT_NOFILE"
else
	echo "fuse passthrough reference skipped: $PT_NOTE"
fi
echo "load average: $LOAD_START at start, $(loadavg) at end (other work on the machine skews both sides)"
