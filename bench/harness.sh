# bench/harness.sh: the integration tests' harness (tests/integration's
# lib.sh, hosts.sh and hva.sh) for a benchmark that boots guests on hosts
# of its own, sourced at the top level of bench/start.sh and
# bench/network.sh after bench/lib.sh, with REPO, BENCH_TIMEOUT, MEMORY,
# VDCFS and VDC_HVA set:
#
#   - vdcfs asks the product's heartbeat and host timeout (hva.sh's are
#     shorter, for tests);
#   - agents run with -v (they log desired revisions and domain events,
#     timed to the ms) and --shutdown-timeout 0 (power off destroys at
#     once, so instances are cleared quickly between rounds);
#   - W is $VDC_TMP/bench, and VDCFS and VDC_HVA are copies in $W/bin
#     (VDCFS_SRC and HVA_SRC name the originals), so that a rebuild during
#     the run cannot mix two builds;
#   - lib.sh's clean-up (every host, vdcfs, VDC_TMP) runs at exit.

VDC_WATCHDOG=$((BENCH_TIMEOUT + 60))
VDC_TIMEOUT=60
VDC_HVA_HEARTBEAT=5
VDC_HOST_TIMEOUT=15
VDC_GUEST_MEMORY=$MEMORY
VDC_HVA_SHUTDOWN_TIMEOUT=0
VDC_HVA_OPTS="-v --shutdown-timeout 0"
# shellcheck source=tests/integration/lib.sh
. "$REPO/tests/integration/lib.sh"
VDC_DONE=1          # not a TAP test: no "ended early" note at exit
_tap_planned=1
skip_all() { die "$*"; }
# shellcheck source=tests/integration/hosts.sh
. "$REPO/tests/integration/hosts.sh"
# shellcheck source=tests/integration/hva.sh
. "$REPO/tests/integration/hva.sh"

W=$VDC_TMP/bench
mkdir -p "$W/bin"
cp "$VDCFS" "$W/bin/vdcfs" || die "cannot copy $VDCFS"
cp "$VDC_HVA" "$W/bin/vdc-hva" || die "cannot copy $VDC_HVA"
VDCFS_SRC=$(realpath "$VDCFS")
HVA_SRC=$(realpath "$VDC_HVA")
VDCFS=$W/bin/vdcfs
VDC_HVA=$W/bin/vdc-hva
