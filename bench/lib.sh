# shellcheck shell=bash
#
# bench/lib.sh: the shell pieces the benchmarks under bench/ share, sourced
# by tree.sh, opcodes.sh and sync.sh; it runs nothing by itself but set
# the defaults below. A script sets BENCH to its own name (for its messages)
# before sourcing it.
#
# Every FUSE server these scripts mount is their own child, started in the
# foreground (-f) of a background job: it is stopped by that pid, never by
# name, so a benchmark cannot touch a vdcfs or mount it did not start.

# REPO, the repository's root, and the defaults of VDCFS and MKINSTANCES, the
# builds every benchmark runs: set here, from this file's place, so that all
# find the same binaries whatever the caller's folder.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VDCFS=${VDCFS:-$REPO/build/vdcfs}
MKINSTANCES=${MKINSTANCES:-$REPO/build/mkinstances}

# die MESSAGE: stop with MESSAGE on stderr, behind the script's name, so a
# failure says which benchmark failed.
die() {
	echo "$BENCH: $*" >&2
	exit 1
}

# need_count NAME VALUE: die unless VALUE (the setting NAME) is a positive
# whole number; a bad N or RUNS would otherwise surface later as an awk or
# arithmetic error far from its cause.
need_count() {
	[[ $2 =~ ^[0-9]+$ && $2 -gt 0 ]] || die "$1 must be a positive whole number, not '$2'"
}

# need_builds: die unless $VDCFS and $MKINSTANCES are executables. The
# benchmarks build nothing, and a missing binary would otherwise show only
# as a mount that never comes up.
need_builds() {
	[[ -x $VDCFS ]] || die "no vdcfs at $VDCFS; run make first or set VDCFS"
	[[ -x $MKINSTANCES ]] || die "no mkinstances at $MKINSTANCES; run make first or set MKINSTANCES"
}

# is_mounted DIR: whether DIR is a mount point, read from /proc/mounts: a
# stat of DIR (mountpoint -q) fails on a FUSE mount whose server died, and
# would miss exactly the mount that still needs unmounting.
is_mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

# fuse_wait PID MNT: wait until the FUSE server PID answers on MNT (MNT is
# mounted and its instances/, which every tree here has, is a folder);
# return 1 if PID exits first or 10 s pass. A workflow run before that
# would run on the bare mount point, or measure the mount's start.
fuse_wait() {
	local pid=$1 mnt=$2 i

	for ((i = 0; i < 100; i++)); do
		if is_mounted "$mnt" && [[ -d $mnt/instances ]]; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# fuse_stop PID MNT: unmount MNT and wait for the FUSE server PID (one this
# script started) to exit; kill it, by pid, if it will not, and lazily
# unmount what is left. The wait matters: a server still saving its state
# would load the next measurement, or lose its folder to the cleanup.
fuse_stop() {
	local pid=$1 mnt=$2 i

	if is_mounted "$mnt"; then
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
	fi
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	if is_mounted "$mnt"; then
		fusermount3 -uz "$mnt" 2>/dev/null || true
	fi
}

# work_remove WORK MNT...: remove the work folder WORK, unless BENCH_KEEP=1
# asks to keep it (logs, archives) or one of the mount points MNT below it
# is still mounted: rm -rf through a live mount would delete what it
# serves, and the folder left in place shows what went wrong.
work_remove() {
	local work=$1 m list='' mounted='' i=0

	shift
	for m in "$@"; do
		i=$((i + 1))
		if ((i == 1)); then
			list=$m
		elif ((i == $#)); then
			list+=" or $m"
		else
			list+=", $m"
		fi
		if is_mounted "$m"; then
			mounted=1
		fi
	done
	if [[ ${BENCH_KEEP:-} == 1 ]]; then
		echo "$BENCH: kept $work" >&2
	elif [[ -n $mounted ]]; then
		echo "$BENCH: $list is still mounted; left $work in place" >&2
	else
		rm -rf --one-file-system "$work"
	fi
}

# bench_traps: run the script's function cleanup at every exit, with errors
# no longer fatal (each step must get its turn) and the script's own exit
# status kept. SIGINT and SIGTERM become exit 130, so an interrupted run
# goes through cleanup too and leaves no server or mount behind.
bench_traps() {
	trap bench_exit EXIT
	trap 'exit 130' INT TERM
}

bench_exit() {
	local rc=$?

	set +e
	cleanup
	exit "$rc"
}

# wl_tar ROOT, wl_ls ROOT, wl_cat ROOT: the read workflows of tree.sh, on the
# tree at ROOT, kept here so that opcodes.sh counts the requests of exactly
# the commands tree.sh times. wl_tar writes its archive to $TAR_OUT.
wl_tar() { tar --exclude-caches -cf "$TAR_OUT" -C "$1" .; }
wl_ls() { ls -l "$1/instances" >/dev/null; }
wl_cat() { (cd "$1/instances" && cat -- */run/state >/dev/null); }
