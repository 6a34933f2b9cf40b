#!/bin/bash
# Export the desired state of the data center with tar, and look inside.
# Usage: examples/03-export.sh [MOUNTPOINT]
set -euo pipefail
vdc=${1:-/vdc}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

mkdir "$vdc/volumes/demo-data"
echo 20G > "$vdc/volumes/demo-data/size"
tar --exclude-caches -C "$vdc" -cf "$out/dc.tar" .
tar -tf "$out/dc.tar" | grep demo-data
# Restore with: tar -C /other/vdc -xf dc.tar   (into a fresh, empty mount)
rmdir "$vdc/volumes/demo-data"
