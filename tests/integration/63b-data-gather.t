# Writes to a volume's data and an instance's disk are gathered
# (docs/storage.md, "Writes are gathered"): many small writes read back as
# written (aligned, unaligned, in one descriptor read before close, from
# four threads on one descriptor at once); a truncate or an O_TRUNC open
# by another descriptor, and a snapshot, come after what was gathered
# before them; a
# gathered write that cannot be stored (the instance powered on before
# the close) fails the close with EBUSY and says so in run/err, or the
# next write when an lseek sent it first, and changes nothing on the disk.

VDC_WATCHDOG=$(( ${VDC_WATCHDOG:-0} > 300 ? VDC_WATCHDOG : 300 ))
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hosts.sh"
VDC_HVA_OPTIONAL=1
. "$(dirname "$0")/hva.sh"
. "$(dirname "$0")/sta.sh"
command -v python3 > /dev/null || skip_all "python3 is missing"

vdc_start
V=$MNT/volumes/v1
D=$V/data
I=$MNT/instances/i1

if vdc_sta_host s 2; then
	pass "storage host s joins"
else
	fail "storage host s joins"
	vdc_sta_diag s
	echo "Bail out! no storage host"
	exit 1
fi

ok "mkdir volumes/v1 of 8M" bash -c "mkdir '$V' && echo 8M > '$V/size'"
ok "v1 is available" vdc_wait_vol_state v1 available 30 || vdc_sta_diag s

# ---- many small writes ----

head -c 8M /dev/urandom > "$VDC_TMP/src"
sum() { timeout -k 2 60 head -c "${2:-8388608}" "$1" | sha256sum | cut -d' ' -f1; }
ok "8M in 512-byte writes (dd bs=512)" timeout -k 2 120 \
	dd if="$VDC_TMP/src" of="$D" bs=512 conv=notrunc status=none
is "$(sum "$D")" "$(sum "$VDC_TMP/src")" "data reads back what was written"
ok "1M in 700-byte writes from byte 700 (no block boundary)" timeout -k 2 60 \
	dd if=/dev/zero of="$D" bs=700 seek=1 count=1498 conv=notrunc status=none
head -c 700 "$VDC_TMP/src" > "$VDC_TMP/want"
head -c 1048600 /dev/zero >> "$VDC_TMP/want"
tail -c +1049301 "$VDC_TMP/src" >> "$VDC_TMP/want"
is "$(sum "$D")" "$(sum "$VDC_TMP/want")" "... the bytes around them are kept"

# One descriptor: writes, then reads and SEEK_DATA of it before close see them.
out=$(timeout -k 2 60 python3 - "$D" << 'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
blob = bytes(range(256)) * 2
for i in range(64):
    os.pwrite(fd, blob, 4096 * 1024 + 512 * i)
back = os.pread(fd, 512 * 64, 4096 * 1024)
d = os.lseek(fd, 4096 * 1024, os.SEEK_DATA)
os.pwrite(fd, b"x" * 10, 4096 * 1024 + 5)
back2 = os.pread(fd, 20, 4096 * 1024)
os.close(fd)
print("same" if back == blob * 64 else "differs", d == 4096 * 1024, back2 == blob[:5] + b"x" * 10 + blob[15:20])
EOF
)
is "$out" "same True True" "a read and SEEK_DATA of the same descriptor before close see its writes"

# ---- four threads write one descriptor at once ----

out=$(timeout -k 2 120 python3 - "$D" << 'EOF'
import os, sys, struct, threading
path, size, chunk, threads = sys.argv[1], 4 << 20, 65536, 4
fd = os.open(path, os.O_WRONLY)
def words(off, n):
    return b"".join(struct.pack("<Q", (off + k) ^ 0x5a5a5a5a5a5a5a5a) for k in range(0, n, 8))
errors = []
def writer(t):
    try:
        for c in range(t, size // chunk, threads):
            for o in range(c * chunk, (c + 1) * chunk, 512):
                os.pwrite(fd, words(o, 512), o)
    except OSError as e:
        errors.append(e)
ts = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
os.close(fd)
fd = os.open(path, os.O_RDONLY)
got = os.pread(fd, size, 0)
os.close(fd)
bad = sum(1 for o in range(0, size, 512) if got[o:o + 512] != words(o, 512))
print("errors", len(errors), "bad", bad)
EOF
)
is "$out" "errors 0 bad 0" "four threads' 512-byte writes on one descriptor read back whole"
ok "vdcfs is still mounted" mountpoint -q "$MNT"

# ---- what reaches the LUN around a descriptor comes after its writes ----

# holder MODE: write 512 bytes of 'A' at 0 through one descriptor, then
# truncate data to 0 through another path (MODE truncate) or open it with
# O_TRUNC (MODE otrunc), then close the first: data is all zeros.
holder() {
	timeout -k 2 60 python3 - "$D" "$1" << 'EOF'
import os, sys
path, mode = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_WRONLY)
os.pwrite(fd, b"A" * 512, 0)
if mode == "truncate":
    os.truncate(path, 0)
else:
    os.close(os.open(path, os.O_WRONLY | os.O_TRUNC))
os.close(fd)
EOF
}
# The LUN's first block, read past the page cache (a truncate to 0 keeps
# data's size, so the kernel keeps its pages until the release drops them).
first() { timeout -k 2 30 dd if="$D" bs=4096 count=1 iflag=direct status=none | tr -d '\0' | wc -c; }
ok "write through one descriptor, truncate data to 0 by its path, close" holder truncate
is "$(first)" 0 "data is zeros: the write came before the truncate"
ok "write through one descriptor, open data with O_TRUNC, close" holder otrunc
is "$(first)" 0 "data is zeros: the write came before the O_TRUNC open"

# ---- a snapshot comes after the writes made before it ----

# Write 512 bytes of 'S' at 0 through one descriptor, mkdir a snapshot,
# wait until it is taken, then close: the snapshot holds them.
out=$(timeout -k 2 90 python3 - "$V" << 'EOF'
import os, subprocess, sys, time
v = sys.argv[1]
# mkdir by another process (the maker of an object sees its files absent
# for a while: model.h, fresh), started before data is opened: a fork
# after it would close a copy of the descriptor, and that close sends
# what was gathered.
mk = subprocess.Popen(["sh", "-c", 'read x && mkdir "$1"', "sh", v + "/snapshots/s1"], stdin=subprocess.PIPE)
fd = os.open(v + "/data", os.O_WRONLY)
os.pwrite(fd, b"S" * 512, 0)
mk.communicate(b"go\n")
if mk.returncode:
    sys.exit("mkdir failed")
state = ""
for _ in range(600):
    try:
        with open(v + "/snapshots/s1/run/state") as f:
            state = f.read().strip()
    except FileNotFoundError:
        pass
    if state == "available":
        break
    time.sleep(0.1)
os.close(fd)
print(state)
EOF
)
is "$out" available "write, mkdir snapshots/s1, s1 is taken, close"
is "$(timeout -k 2 30 dd if="$V/snapshots/s1/data" bs=512 count=1 status=none | tr -d S | wc -c)" 0 \
	"the snapshot holds the bytes written before its mkdir"

# ---- an error of a gathered write ----

head -c 4M /dev/urandom > "$VDC_TMP/img"
ok "import an image" bash -c "mkdir '$MNT/images/blob' && cp '$VDC_TMP/img' '$MNT/images/blob/data'"
ok "instance i1 from it" bash -c "mkdir '$I' && ln -s ../../images/blob '$I/image'"
disk_is() { [ "$(vdc_size "$I/disk")" = "$1" ]; }
ok "its disk is made on s" vdc_wait 60 disk_is 4194304
is "$(sum "$I/disk" 4194304)" "$(sum "$VDC_TMP/img" 4194304)" "disk holds the image"

# closer: write 512 bytes of 'B' at 0 of disk, power the instance on
# (no hypervisor: it stays on, starting), then close: the close fails.
out=$(timeout -k 2 60 python3 - "$I/disk" "$I/power" << 'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
n = os.pwrite(fd, b"B" * 512, 0)
with open(sys.argv[2], "w") as p:
    p.write("on\n")
try:
    os.close(fd)
    print("wrote", n, "close ok")
except OSError as e:
    print("wrote", n, "close", os.strerror(e.errno))
EOF
)
is "$out" "wrote 512 close $(vdc_strerror EBUSY)" "a write gathered while off fails the close with EBUSY once the instance is on"
like "$(get "$I/run/err")" "512 bytes written at 0 were not stored: .*written only while it is off" \
	"... run/err says which bytes and why"
ok "power off" put off "$I/power"
is "$(sum "$I/disk" 4194304)" "$(sum "$VDC_TMP/img" 4194304)" "... and the disk holds the image still"

# The same, but an lseek of the descriptor (SEEK_DATA: always a request to
# vdcfs, where a read may be served from the page cache) sends the bytes
# first: the next write returns the error (and changes nothing), the one
# after it works.
out=$(timeout -k 2 60 python3 - "$I/disk" "$I/power" << 'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"C" * 512, 0)
with open(sys.argv[2], "w") as p:
    p.write("on\n")
os.lseek(fd, 0, os.SEEK_DATA)
with open(sys.argv[2], "w") as p:
    p.write("off\n")
r = []
for off in (4096, 4096):
    try:
        os.pwrite(fd, b"D" * 512, off)
        r.append("ok")
    except OSError as e:
        r.append(os.strerror(e.errno))
os.close(fd)
print(" / ".join(r))
EOF
)
is "$out" "$(vdc_strerror EBUSY) / ok" "the next write returns the error of a gathered write sent by an lseek, the one after it works"
is "$(head -c 512 "$I/disk" | sha256sum)" "$(head -c 512 "$VDC_TMP/img" | sha256sum)" "... the dropped bytes are not on the disk"
is "$(dd if="$I/disk" bs=512 skip=8 count=1 status=none | tr -d D | wc -c)" 0 "... the last write is"
ok "rmdir instances/i1" rmdir "$I"
ok "rmdir volumes/v1" rmdir "$V"
vdc_stop
done_testing
