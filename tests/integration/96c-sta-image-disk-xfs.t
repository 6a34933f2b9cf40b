# 96b-sta-image-disk.t with the storage host's state folder on an XFS file
# system with reflinks (a loop-mounted file): disks are clones of the
# cached image (FICLONE), as on a storage host set up as docs/vdc-sta.md
# recommends. Skips without mkfs.xfs.
VDC_STA_FS=xfs
. "$(dirname "$0")/96b-sta-image-disk.t"
