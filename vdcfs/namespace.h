/*
 * The FUSE operations that change the namespace (namespace.c), for the
 * fuse_lowlevel_ops table in vdcfs.c.
 *
 * Contract: libfuse's (fuse_lowlevel.h): each ends in exactly one reply;
 * create's reply carries an open handle (handle.h), freed here when the
 * reply cannot be delivered. Each takes the model's write lock itself and
 * tells the kernel of the live files it changed before letting go of it
 * (notify.h); a volume's data is copied or emptied outside the lock.
 */
#ifndef VDCFS_NAMESPACE_H
#define VDCFS_NAMESPACE_H

#include <fuse_lowlevel.h>

void vdcfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		  struct fuse_file_info *fi);
void vdcfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void vdcfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void vdcfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void vdcfs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name);
void vdcfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		  const char *newname, unsigned int flags);

#endif
