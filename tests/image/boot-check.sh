#!/bin/bash
# Boot the test guest image under qemu (TCG) with a NoCloud seed and check what its serial console shows;
# TAP output, exit 0 when every check passed.
#
#     tests/image/boot-check.sh [IMAGE]
#
# Without IMAGE, one is built with build-tiny-image.sh first. Two boots:
#   1. the raw image: hostname and user-data from the seed, user-data run,
#      "vdc-guest: ready", and the time from starting qemu to that line;
#   2. a qcow2 overlay backed by the raw image (as vdc-hva boots it), which
#      must also power off cleanly on the ACPI power button.
#
# Environment:
#   VDC_BOOT_TIMEOUT  seconds a boot or a power-off may take (default 60)
#   VDC_BOOT_ACCEL    qemu's accelerator (default tcg, what the issue's boot
#                     time is measured with; kvm needs a working /dev/kvm,
#                     which its mere presence does not prove)
# Only the qemu processes started here are killed, by pid;
# the temporary folder goes on exit.
#
# The checks are functions run through check() and the EXIT trap, which
# version 0.9 of shellcheck takes for unreachable code (SC2317).
# shellcheck disable=SC2317
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
timeout_s=${VDC_BOOT_TIMEOUT:-60}
accel=${VDC_BOOT_ACCEL:-tcg}
if [ $# -gt 1 ]; then
	echo "usage: boot-check.sh [IMAGE]" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vdc-boot.XXXXXX")
qemu_pid=

cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

image=${1:-}
if [ -z "$image" ]; then
	image=$tmp/tiny.img
	"$here/build-tiny-image.sh" "$image" >&2
fi
if [ ! -f "$image" ]; then
	echo "Bail out! no image at $image"
	exit 1
fi
image=$(realpath "$image")
image_sum=$(sha256sum <"$image")

cat >"$tmp/user-data" <<'EOF'
#!/bin/sh
# boot-check user-data
echo "boot-check: user-data ran as $(id -u) on $(hostname)"
EOF
"$here/make-seed.sh" "$tmp/seed.img" vdc-check "$tmp/user-data"

# boot NAME DISK FORMAT: start qemu in the background with its monitor on a
# FIFO this shell holds open as fd 3; the console goes to $tmp/NAME.log.
boot() {
	local name=$1 disk=$2 format=$3
	rm -f "$tmp/$name.mon"
	mkfifo "$tmp/$name.mon"
	exec 3<>"$tmp/$name.mon"
	: >"$tmp/$name.log"
	qemu-system-x86_64 -accel "$accel" -m 256 -display none -no-reboot \
		-drive "file=$disk,format=$format,if=virtio" \
		-drive "file=$tmp/seed.img,format=raw,if=virtio" \
		-serial "file:$tmp/$name.log" -monitor stdio \
		<"$tmp/$name.mon" >"$tmp/$name.qemu" 2>&1 &
	qemu_pid=$!
}

# wait_for NAME TEXT: until the console shows TEXT (0), qemu ends or the
# timeout passes (1).
wait_for() {
	local log=$tmp/$1.log deadline=$(($(now_ms) + timeout_s * 1000))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		grep -qF "$2" "$log" && return 0
		kill -0 "$qemu_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# wait_exit: until qemu ends by itself (0) or the timeout passes (1).
wait_exit() {
	local deadline=$(($(now_ms) + timeout_s * 1000))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		if ! kill -0 "$qemu_pid" 2>/dev/null; then
			wait "$qemu_pid" 2>/dev/null || true
			qemu_pid=
			return 0
		fi
		sleep 0.1
	done
	return 1
}

stop() {
	kill "$qemu_pid" 2>/dev/null || true
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=
	exec 3>&-
}

console_has() {
	# Not grep -q: an early exit would fail the pipe (pipefail).
	tr -d '\r' <"$tmp/$1.log" | grep -xF "$2" >/dev/null
}

# The lines between the user-data markers are the user-data, byte for byte.
user_data_shown() {
	tr -d '\r' <"$tmp/$1.log" |
		sed -n '/^vdc-guest: user-data begins$/,/^vdc-guest: user-data ends$/p' |
		sed '1d;$d' | cmp -s - "$tmp/user-data"
}

echo "1..11"

# 1. The raw image.
start=$(now_ms)
boot raw "$image" raw
if wait_for raw "vdc-guest: ready"; then
	ms=$(($(now_ms) - start))
	ok "the raw image boots to 'vdc-guest: ready' under $accel in $((ms / 1000)).$((ms % 1000 / 100)) s"
else
	not_ok "the raw image boots to 'vdc-guest: ready' within $timeout_s s"
fi
check "the console shows the hostname from the seed" console_has raw "vdc-guest: hostname vdc-check"
check "the console shows the instance-id from the seed" console_has raw "vdc-guest: instance-id iid-vdc-check"
check "the console shows the user-data between its markers" user_data_shown raw
check "the user-data ran as root under the new hostname" \
	console_has raw "boot-check: user-data ran as 0 on vdc-check"
stop

# 2. A copy-on-write overlay, then a graceful power-off.
qemu-img create -q -f qcow2 -b "$image" -F raw "$tmp/overlay.qcow2"
start=$(now_ms)
boot overlay "$tmp/overlay.qcow2" qcow2
if wait_for overlay "vdc-guest: ready"; then
	ms=$(($(now_ms) - start))
	ok "a qcow2 overlay of the image boots to 'vdc-guest: ready' in $((ms / 1000)).$((ms % 1000 / 100)) s"
else
	not_ok "a qcow2 overlay of the image boots to 'vdc-guest: ready' within $timeout_s s"
fi
check "the overlay's console shows the hostname" console_has overlay "vdc-guest: hostname vdc-check"
check "the overlay's console shows the user-data" user_data_shown overlay
# acpid is started by init just after "ready"; give it a moment.
sleep 1
echo system_powerdown >&3
check "the guest powers off on the ACPI power button" wait_exit
check "the guest said it was shutting down" console_has overlay "vdc-guest: shutting down"
check "booting left the image unchanged" test "$(sha256sum <"$image")" = "$image_sum"
[ -z "$qemu_pid" ] || stop

if [ "$failed" -ne 0 ]; then
	echo "# $failed of $n checks failed; the last boot's console and qemu said:"
	for f in "$tmp/overlay.log" "$tmp/overlay.qemu"; do
		[ -f "$f" ] || f=${f/overlay/raw}
		tr -d '\r' <"$f" | sed 's/^/# /'
	done
	exit 1
fi
exit 0
