#!/bin/bash
# A volume: make it, attach it to an instance, snapshot it, roll it back,
# and seed a second volume from the snapshot. With a storage host joined
# (scripts/run starts one) the bytes really move; without one the volumes
# stay `defined` and their data is empty.
# Usage: examples/04-volumes.sh [MOUNTPOINT]   (default /vdc)
set -euo pipefail
vdc=${1:-/vdc}
v=$vdc/volumes/demo-data

mkdir "$v"
echo 64M > "$v/size"                 # a volume never written may still shrink
echo "state: $(cat "$v/run/state")"  # creating, then available on a storage host

mkdir "$vdc/instances/demo-db"
ln -s ../../../volumes/demo-data "$vdc/instances/demo-db/volumes/data"
# A volume is attached to one instance at a time.
mkdir "$vdc/instances/demo-other"
if ln -s ../../../volumes/demo-data "$vdc/instances/demo-other/volumes/data" 2>/dev/null; then
	echo "expected a second attachment to be refused" >&2
	exit 1
fi
cat "$vdc/instances/demo-other/run/err"

for _ in $(seq 50); do
	[ "$(cat "$v/run/state")" = available ] && break
	sleep 0.1
done
if [ "$(cat "$v/run/state")" = available ]; then
	printf 'first\n' | dd of="$v/data" conv=notrunc status=none   # bytes through the tree
	mkdir "$v/snapshots/monday"
	until [ "$(cat "$v/snapshots/monday/run/state")" = available ]; do sleep 0.1; done
	printf 'second\n' | dd of="$v/data" conv=notrunc status=none
	echo "rollback monday" > "$v/ctl"
	until [ "$(head -c 5 "$v/data")" = first ]; do sleep 0.1; done
	echo "rolled back: $(head -n 1 "$v/data")"
	cat "$v/run/target"                                # PORTAL IQN LUN
else
	echo "no storage host: $v stays $(cat "$v/run/state"), its data is empty ($(stat -c %s "$v/data") bytes)"
	mkdir "$v/snapshots/monday"                       # creating until a storage host takes it
fi

# A new volume seeded from the snapshot.
mkdir "$vdc/volumes/demo-copy"
ln -s ../../volumes/demo-data/snapshots/monday "$vdc/volumes/demo-copy/source"

# Clean up: links first (they hold what they name).
rm "$vdc/volumes/demo-copy/source" "$vdc/instances/demo-db/volumes/data"
rmdir "$vdc/volumes/demo-copy" "$vdc/instances/demo-db" "$vdc/instances/demo-other"
rmdir "$v/snapshots/monday" "$v"
