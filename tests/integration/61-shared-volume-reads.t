# Reads of one descriptor of a volume's data from several threads at once
# (docs/storage.md): a storage host with tgtd and vdc-sta joins, a volume
# is filled with text, and four threads read it in order through one
# descriptor, as root and as another user. The handle's end of file, where
# the last read ended and run/progress are shared by those reads; every
# read is whole text and vdcfs lives on (make tsan runs this file too).

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
command -v setpriv > /dev/null || skip_all "setpriv (util-linux) is not installed"
PREADRACE=${PREADRACE:-$VDC_SRC_ROOT/build/preadrace}
[ -x "$PREADRACE" ] || { echo "Bail out! no $PREADRACE (make builds it)"; exit 1; }
cp "$PREADRACE" "$VDC_TMP/preadrace" && chmod 0755 "$VDC_TMP/preadrace"
PR=$VDC_TMP/preadrace
SECONDS_EACH=${VDC_RACE_SECONDS:-2}
NOBODY=65534

vdc_start
if vdc_sta_host s 2; then
	pass "storage host s joins"
else
	fail "storage host s joins"
	vdc_sta_diag s
	echo "Bail out! no storage host"
	exit 1
fi

as() {
	local uid=$1
	shift
	timeout -k 2 "$VDC_TIMEOUT" setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}

# fill WHO VOLUME: make a volume of 4M and fill it with lines of text, as WHO.
fill() {
	local who=$1 v=$MNT/volumes/$2
	ok "uid $who makes volumes/$2 of 4M" as "$who" bash -c "mkdir '$v' && echo 4M > '$v/size'"
	vdc_wait_vol_state "$2" available 30 || vdc_sta_diag s
	ok "uid $who fills its data with text" as "$who" bash -c \
		"yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde | head -c 4194304 > '$v/data'"
	is "$(as "$who" tail -c 64 "$v/data")" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde" \
		"volumes/$2/data reads back its last line"
}

# race WHO FILE: four threads read FILE in order through one descriptor, as WHO.
race() {
	local who=$1 file=$2 out rc
	out=$(timeout -k 2 120 setpriv --reuid="$who" --regid="$who" --clear-groups \
		"$PR" readseq "$file" 4 "$SECONDS_EACH" 2>&1)
	rc=$?
	_tap_result $((rc == 0)) "uid $who: four threads on one descriptor of ${file#"$MNT"/} read whole text ($out)" && return 0
	diag "exit status $rc" "$out"
	return 1
}

fill 0 v1
fill $NOBODY nv1
race 0 "$MNT/volumes/v1/data"
race $NOBODY "$MNT/volumes/nv1/data"
ok "vdcfs is still mounted" mountpoint -q "$MNT"
ok "root removes volumes/v1" rmdir "$MNT/volumes/v1"
ok "nobody removes volumes/nv1" as $NOBODY rmdir "$MNT/volumes/nv1"
vdc_stop
done_testing
