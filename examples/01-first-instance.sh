#!/bin/bash
# A first instance: an image, a server with 1 GiB of memory, power on.
# Usage: examples/01-first-instance.sh [MOUNTPOINT]   (default /vdc)
set -euo pipefail
vdc=${1:-/vdc}

mkdir "$vdc/images/demo-image"
head -c 1048576 /dev/zero > "$vdc/images/demo-image/data"   # cp disk.img works the same

mkdir "$vdc/instances/demo-web"
echo 1G > "$vdc/instances/demo-web/memory"
echo 2 > "$vdc/instances/demo-web/cpus"
printf '#cloud-config\nruncmd:\n  - echo hello\n' > "$vdc/instances/demo-web/user-data"
ln -s ../../images/demo-image "$vdc/instances/demo-web/image"

# A bad value is refused by the write itself; the reason is in run/err.
if echo 1X > "$vdc/instances/demo-web/memory" 2>/dev/null; then
	echo "expected 1X to be refused" >&2
	exit 1
fi
cat "$vdc/instances/demo-web/run/err"

echo on > "$vdc/instances/demo-web/power"
echo "state: $(cat "$vdc/instances/demo-web/run/state")"   # unschedulable until a host joins
cat "$vdc/instances/demo-web/run/err"

# Clean up: power off, then remove (the image last: the link holds it).
echo off > "$vdc/instances/demo-web/power"
rmdir "$vdc/instances/demo-web"
rmdir "$vdc/images/demo-image"
