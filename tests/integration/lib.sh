# Shared helpers for the mount-level tests: a private mount of vdcfs, a
# cleanup trap, a watchdog and a few TAP functions.
#
# Source it from a test file (run by `prove --exec bash`):
#
#     . "$(dirname "$0")/lib.sh"
#     vdc_start                 # MNT and STATE are set and exported
#     ok "mkdir works" mkdir "$MNT/instances/web1"
#     is "$(cat "$MNT/instances/web1/cpus")" 1 "cpus defaults to 1"
#     done_testing
#
# Environment:
#   VDCFS           the vdcfs binary (default: build/vdcfs of this tree)
#   VDCFS_WRAP      a command put in front of vdcfs (valgrind ...)
#   VDCFS_OPTS      more -o options for vdcfs (hosts.sh adds listen=...)
#   VDC_WATCHDOG    seconds before a test is killed (default 120)
#   VDC_TIMEOUT     seconds an external command in ok/nok/fails_with may run
#
# Everything a test makes lives in one temporary folder (VDC_TMP). The EXIT
# trap unmounts every mount made here, kills only the vdcfs processes
# started here (by the pid $! gave) and removes the folder, also when the
# test fails or the watchdog fires.

set -u
export LC_ALL=C

VDC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VDC_SRC_ROOT=$(cd "$VDC_LIB_DIR/../.." && pwd)
VDCFS=${VDCFS:-$VDC_SRC_ROOT/build/vdcfs}
VDCFS_WRAP=${VDCFS_WRAP:-}
VDC_TIMEOUT=${VDC_TIMEOUT:-20}
VDC_WATCHDOG=${VDC_WATCHDOG:-120}
export VDCFS

VDC_TMP=$(mktemp -d /tmp/vdcfs-test.XXXXXX) || { echo "Bail out! mktemp failed"; exit 1; }
# Other users must reach the mount points (60-ownership); state dirs stay 0700.
chmod 0755 "$VDC_TMP"
: > "$VDC_TMP/.pids"      # "PID MOUNTPOINT", one a line, of every vdcfs started here
: > "$VDC_TMP/.mounts"    # every mount point used here
VDC_MAIN_PID=$$
VDC_DONE=0

# ---- TAP ----

_tap_n=0
_tap_failed=0
_tap_todo=
_tap_planned=0

plan() {
	echo "1..$1"
	_tap_planned=1
}

# Print the plan at the end (a trailing plan is valid TAP).
done_testing() {
	[ "$_tap_planned" = 1 ] || echo "1..$_tap_n"
	_tap_planned=1
	VDC_DONE=1
}

# Stop the whole file with a skip (before any test ran).
skip_all() {
	echo "1..0 # SKIP $*"
	_tap_planned=1
	VDC_DONE=1
	exit 0
}

# diag LINE...: print to stderr as TAP comments (at most 12 lines of 200 bytes).
diag() {
	local line n=0
	printf '%s\n' "$@" | while IFS= read -r line; do
		n=$((n + 1))
		if [ $n -gt 12 ]; then
			printf '# ...\n' >&2
			break
		fi
		printf '# %.200s\n' "$line" >&2
	done
}

# Mark the next assertion as a known bug: `todo "bug: ..."`.
todo() {
	_tap_todo=$1
}

# _tap_result PASS(0/1) DESC
_tap_result() {
	local pass=$1 desc=$2 suffix=
	_tap_n=$((_tap_n + 1))
	if [ -n "$_tap_todo" ]; then
		suffix=" # TODO $_tap_todo"
	fi
	desc=${desc//#/\\#}
	if [ "$pass" = 1 ]; then
		echo "ok $_tap_n - $desc$suffix"
	else
		echo "not ok $_tap_n - $desc$suffix"
		[ -n "$_tap_todo" ] || _tap_failed=$((_tap_failed + 1))
	fi
	_tap_todo=
	[ "$pass" = 1 ]
}

skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n # skip $*"
}

# Run a command; external commands get a timeout so nothing hangs the test.
vdc_run() {
	if [ "$(type -t "$1")" = file ]; then
		timeout -k 2 "$VDC_TIMEOUT" "$@"
	else
		"$@"
	fi
}

# ok DESC CMD...: passes when CMD exits 0.
ok() {
	local desc=$1 out rc
	shift
	out=$(vdc_run "$@" 2>&1)
	rc=$?
	_tap_result $((rc == 0)) "$desc" && return 0
	diag "command: $*" "exit status $rc" "$out"
	return 1
}

# nok DESC CMD...: passes when CMD exits non-zero.
nok() {
	local desc=$1 out rc
	shift
	out=$(vdc_run "$@" 2>&1)
	rc=$?
	_tap_result $((rc != 0)) "$desc" && return 0
	diag "command: $*" "succeeded but should have failed" "$out"
	return 1
}

# The C locale's text for an errno name, as tools print it.
vdc_strerror() {
	case $1 in
	EPERM) echo "Operation not permitted" ;;
	ENOENT) echo "No such file or directory" ;;
	EACCES) echo "Permission denied" ;;
	EBUSY) echo "Device or resource busy" ;;
	EEXIST) echo "File exists" ;;
	EXDEV) echo "Invalid cross-device link" ;;
	ENOTDIR) echo "Not a directory" ;;
	EISDIR) echo "Is a directory" ;;
	EINVAL) echo "Invalid argument" ;;
	EFBIG) echo "File too large" ;;
	ENOSPC) echo "No space left on device" ;;
	ERANGE) echo "Numerical result out of range" ;;
	ENAMETOOLONG) echo "File name too long" ;;
	ENOTEMPTY) echo "Directory not empty" ;;
	EADDRINUSE) echo "Address already in use" ;;
	EDQUOT) echo "Disk quota exceeded" ;;
	EAGAIN) echo "Resource temporarily unavailable" ;;
	*) echo "$1" ;;
	esac
}

# fails_with ERRNO DESC CMD...: CMD exits non-zero and reports that errno.
# ERRNO may list alternatives: "EPERM|EACCES".
fails_with() {
	local want=$1 desc=$2 out rc e pass=0
	shift 2
	out=$(vdc_run "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		for e in ${want//|/ }; do
			case $out in *"$(vdc_strerror "$e")"*) pass=1 ;; esac
		done
	fi
	_tap_result $pass "$desc" && return 0
	diag "command: $*" "exit status $rc, wanted failure with $want" "$out"
	return 1
}

# is GOT WANT DESC
is() {
	_tap_result "$([ "$1" = "$2" ] && echo 1 || echo 0)" "$3" && return 0
	diag "got:  '$1'" "want: '$2'"
	return 1
}

isnt() {
	_tap_result "$([ "$1" != "$2" ] && echo 1 || echo 0)" "$3" && return 0
	diag "got '$1', wanted anything else"
	return 1
}

# like GOT ERE DESC
like() {
	_tap_result "$([[ $1 =~ $2 ]] && echo 1 || echo 0)" "$3" && return 0
	diag "got:  '$1'" "want match of: $2"
	return 1
}

unlike() {
	_tap_result "$([[ $1 =~ $2 ]] && echo 0 || echo 1)" "$3" && return 0
	diag "got:  '$1'" "want no match of: $2"
	return 1
}

pass() { _tap_result 1 "$1"; }
fail() { _tap_result 0 "$1"; [ $# -lt 2 ] || diag "${@:2}"; return 1; }

# ---- small helpers ----

# put VALUE FILE: write VALUE and a newline in one write(2), like echo.
put() {
	timeout -k 2 "$VDC_TIMEOUT" bash -c 'printf "%s\n" "$1" > "$2"' put "$1" "$2"
}

# putb FILE: write stdin to FILE in one write(2) (cat writes whole buffers).
putb() {
	timeout -k 2 "$VDC_TIMEOUT" bash -c 'cat > "$1"' putb "$1"
}

# Read a file, bounded in time; prints nothing if it fails.
get() {
	timeout -k 2 "$VDC_TIMEOUT" cat "$1" 2>/dev/null
}

# file_is FILE WANT: FILE holds WANT (for vdc_wait).
file_is() { [ "$(get "$1")" = "$2" ]; }

# vdc_wait SECS CMD...: run CMD every 0.1 s until it succeeds (0) or SECS
# pass (1); its standard error is dropped.
vdc_wait() {
	local secs=$1 end
	shift
	end=$(($(date +%s%N) / 1000000 + secs * 1000))
	while :; do
		"$@" 2> /dev/null && return 0
		[ "$(($(date +%s%N) / 1000000))" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# mtime in nanoseconds precision text, size, inode.
vdc_mtime() { timeout 10 stat -c %.9Y "$1"; }
vdc_size() { timeout 10 stat -c %s "$1"; }
vdc_ino() { timeout 10 stat -c %i "$1"; }

# ---- mounts ----

# _vdc_mount NAME: start vdcfs in the foreground of a background job for
# state $VDC_TMP/state-NAME at $VDC_TMP/mnt-NAME, and wait for the mount.
_vdc_mount() {
	local name=$1 st=$VDC_TMP/state-$1 mnt=$VDC_TMP/mnt-$1 pid i
	mkdir -p "$mnt"
	grep -qxF "$mnt" "$VDC_TMP/.mounts" || echo "$mnt" >> "$VDC_TMP/.mounts"
	# VDC_LISTEN=none: no listen option (vdcfs picks, keeps STATE/listen).
	local listen=,listen=${VDC_LISTEN:-127.0.0.1:0}
	[ "${VDC_LISTEN:-}" != none ] || listen=
	# shellcheck disable=SC2086
	$VDCFS_WRAP "$VDCFS" -f -o "state=$st,allow_other$listen${VDCFS_OPTS:+,$VDCFS_OPTS}" "$mnt" >> "$VDC_TMP/vdcfs-$name.log" 2>&1 < /dev/null &
	pid=$!
	echo "$pid $mnt" >> "$VDC_TMP/.pids"
	eval "VDC_PID_$name=$pid"
	for i in $(seq 1 200); do
		if mountpoint -q "$mnt"; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.05
	done
	echo "Bail out! vdcfs did not mount $mnt (pid $pid)"
	cat "$VDC_TMP/vdcfs-$name.log" >&2
	exit 1
}

# vdc_start [NAME]: a fresh state and mount. Without NAME sets MNT/STATE;
# with NAME sets MNT_NAME/STATE_NAME too (vdc_start b -> MNT_b, STATE_b).
vdc_start() {
	local name=${1:-main}
	_vdc_mount "$name"
	if [ "$name" = main ]; then
		MNT=$VDC_TMP/mnt-main
		STATE=$VDC_TMP/state-main
		export MNT STATE
	else
		eval "MNT_$name=\$VDC_TMP/mnt-$name; STATE_$name=\$VDC_TMP/state-$name"
		export "MNT_$name" "STATE_$name"
	fi
}

_vdc_pid() {
	local v=VDC_PID_${1:-main}
	echo "${!v:-}"
}

# Is PID still the vdcfs we started for mount point MNT (not a reused pid)?
_vdc_is_ours() {
	local pid=$1 mnt=$2
	local cmd
	cmd=$(tr '\0' ' ' 2> /dev/null < "/proc/$pid/cmdline") || return 1
	case " $cmd" in *" $mnt "*) return 0 ;; esac
	return 1
}

# Drop an ended vdcfs from the list the cleanup and the watchdog kill from.
_vdc_forget_pid() {
	local pid=$1
	grep -v "^$pid " "$VDC_TMP/.pids" > "$VDC_TMP/.pids.new"
	mv "$VDC_TMP/.pids.new" "$VDC_TMP/.pids"
}

# The state letter of a process (R, S, Z...), empty when it is gone.
_vdc_proc_state() {
	local stat
	stat=$(cat "/proc/$1/stat" 2> /dev/null) || return 0
	stat=${stat##*) }
	echo "${stat%% *}"
}

# Wait up to $2 tenths of a second for pid $1 to end; reap it.
_vdc_wait_pid() {
	local pid=$1 n=${2:-100} i st
	for i in $(seq 1 "$n"); do
		st=$(_vdc_proc_state "$pid")
		# Gone, or a zombie waiting for us to reap it.
		[ -n "$st" ] && [ "$st" != Z ] || break
		sleep 0.1
	done
	st=$(_vdc_proc_state "$pid")
	if [ -n "$st" ] && [ "$st" != Z ]; then
		return 1
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# vdc_stop [NAME]: unmount cleanly and wait for vdcfs to exit.
vdc_stop() {
	local name=${1:-main} mnt=$VDC_TMP/mnt-${1:-main} pid
	pid=$(_vdc_pid "$name")
	timeout 20 fusermount3 -u "$mnt" 2>/dev/null || timeout 20 fusermount3 -uz "$mnt" 2>/dev/null
	if [ -n "$pid" ] && ! _vdc_wait_pid "$pid" 100; then
		diag "vdcfs $pid did not exit after unmount; killing it"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	elif [ -n "$pid" ]; then
		# A clean unmount ends vdcfs with 0; anything else (a sanitizer
		# or valgrind finding at exit) fails the test.
		wait "$pid" 2>/dev/null
		local st=$?
		if [ "$st" != 0 ] && [ "$st" != 127 ]; then
			diag "vdcfs $pid exited with status $st after unmount:"
			diag "$(tail -n 40 "$VDC_TMP/vdcfs-$name.log" 2>/dev/null)"
			_tap_failed=$((_tap_failed + 1))
		fi
	fi
	[ -z "$pid" ] || _vdc_forget_pid "$pid"
	eval "VDC_PID_$name="
}

# vdc_kill9 [NAME]: SIGKILL our vdcfs (by its pid) and lazily unmount.
vdc_kill9() {
	local name=${1:-main} mnt=$VDC_TMP/mnt-${1:-main} pid
	pid=$(_vdc_pid "$name")
	if [ -z "$pid" ]; then
		echo "Bail out! vdc_kill9: no vdcfs running for $name"
		exit 1
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	_vdc_forget_pid "$pid"
	timeout 20 fusermount3 -uz "$mnt" 2>/dev/null
	eval "VDC_PID_$name="
}

# vdc_restart [NAME]: stop if running, mount the same state again.
vdc_restart() {
	local name=${1:-main}
	[ -z "$(_vdc_pid "$name")" ] || vdc_stop "$name"
	_vdc_mount "$name"
}

# ---- cleanup and watchdog ----

# Idempotent; run from the EXIT trap and by the watchdog.
vdc_cleanup() {
	local pid mnt hook
	[ -d "$VDC_TMP" ] || return 0
	cd /
	# Helpers sourced after this file (hosts.sh) tear down their part first.
	for hook in ${VDC_CLEANUP_HOOKS:-}; do
		[ "$(type -t "$hook")" = function ] && "$hook"
	done
	while read -r mnt; do
		[ -n "$mnt" ] || continue
		if mountpoint -q "$mnt" 2>/dev/null || grep -qF " $mnt " /proc/self/mounts; then
			timeout 10 fusermount3 -u "$mnt" 2>/dev/null || timeout 10 fusermount3 -uz "$mnt" 2>/dev/null
		fi
	done < "$VDC_TMP/.mounts"
	while read -r pid mnt; do
		[ -n "$pid" ] || continue
		if _vdc_is_ours "$pid" "$mnt"; then
			sleep 0.2
			_vdc_is_ours "$pid" "$mnt" && kill -9 "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done < "$VDC_TMP/.pids"
	# Sanitizer reports go to vdcfs's and the agents' logs: show them
	# before they are removed.
	local log
	for log in "$VDC_TMP"/vdcfs-*.log "$VDC_TMP"/hva-*.log "$VDC_TMP"/sta-*.log; do
		[ -f "$log" ] || continue
		if grep -qE 'Sanitizer|runtime error:' "$log"; then
			echo "# sanitizer report in $(basename "$log"):" >&2
			sed 's/^/# /' "$log" >&2
			_tap_failed=$((_tap_failed + 1))
		fi
	done
	# Never recurse into a mount that is still there.
	while read -r mnt; do
		if grep -qF " $mnt " /proc/self/mounts; then
			echo "# cleanup: $mnt is still mounted; leaving $VDC_TMP" >&2
			return 1
		fi
	done < "$VDC_TMP/.mounts"
	rm -rf --one-file-system "$VDC_TMP"
}

_vdc_exit() {
	local rc=$?
	[ -n "${VDC_WATCHDOG_PID:-}" ] && kill "$VDC_WATCHDOG_PID" 2>/dev/null
	# Stop background helpers a test left behind (its own children only).
	local j
	for j in $(jobs -p); do
		grep -q "^$j " "$VDC_TMP/.pids" 2>/dev/null || kill "$j" 2>/dev/null
	done
	vdc_cleanup
	if [ "$VDC_DONE" != 1 ] && [ "$_tap_planned" != 1 ]; then
		echo "# test ended early (exit status $rc) after $_tap_n tests" >&2
	fi
	if [ "$_tap_failed" -gt 0 ] && [ "$rc" = 0 ]; then
		rc=1
	fi
	exit "$rc"
}
trap _vdc_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The watchdog: after VDC_WATCHDOG seconds, kill our vdcfs processes (so any
# command blocked on the mount returns), stop the test and clean up.
vdc_watchdog() {
	(
		trap - EXIT TERM INT
		local i
		for i in $(seq 1 "$1"); do
			sleep 1 > /dev/null 2>&1 < /dev/null
			# The test was killed (kill -9) without its EXIT trap: clean up.
			if ! kill -0 "$VDC_MAIN_PID" 2> /dev/null; then
				vdc_cleanup > /dev/null 2>&1
				exit 0
			fi
		done
		echo "not ok - watchdog: the test took longer than $1 s and was stopped"
		while read -r pid mnt; do
			_vdc_is_ours "$pid" "$mnt" && kill -9 "$pid" 2>/dev/null
		done < "$VDC_TMP/.pids"
		kill -TERM "$VDC_MAIN_PID" 2>/dev/null
		sleep 5 > /dev/null 2>&1 < /dev/null
		if kill -0 "$VDC_MAIN_PID" 2>/dev/null; then
			for pid in /proc/[0-9]*; do
				pid=${pid#/proc/}
				[ "$pid" != "$BASHPID" ] || continue
				stat=$(cat "/proc/$pid/stat" 2> /dev/null) || continue
				stat=${stat##*) }
				set -- $stat
				[ "$2" = "$VDC_MAIN_PID" ] && kill -9 "$pid" 2> /dev/null
			done
			kill -9 "$VDC_MAIN_PID" 2>/dev/null
			vdc_cleanup > /dev/null 2>&1
		fi
	) &
	VDC_WATCHDOG_PID=$!
}

if [ ! -x "$VDCFS" ]; then
	echo "Bail out! $VDCFS is not built (run make, or set VDCFS)"
	exit 1
fi
vdc_watchdog "$VDC_WATCHDOG"
