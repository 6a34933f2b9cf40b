/*
 * Running the programs an agent needs (qemu-img, mkfs.vfat, mcopy, tar,
 * tgtadm): fork and execve with an argv, never a shell, so nothing that
 * came from a user is ever parsed as a command.
 */
#ifndef VDC_AGENT_PROCESS_H
#define VDC_AGENT_PROCESS_H

#include <stddef.h>

#include "err.h"
#include "strbuf.h"

/*
 * Run `argv` with the environment `envp` (NULL: an empty one, plus a
 * fixed PATH and LC_ALL=C). argv[0] is an absolute path or a bare name
 * looked up in the system folders (/usr/local/sbin ... /bin), never in
 * the caller's PATH. Standard input is /dev/null, standard output is
 * discarded and standard error is kept for the sentence. Returns 0 when
 * the program exits 0; -ENOENT when it is not installed; -EIO when it
 * fails, with what it said; -ETIMEDOUT (after killing it) when it runs
 * longer than `timeout_s`.
 */
int vdc_spawn(const char *const argv[], const char *const envp[], unsigned timeout_s,
	      struct vdc_err *err);

/*
 * The same, keeping the program's standard output in `out` (appended, at
 * most `max` bytes; more is -EFBIG). On failure the sentence carries the
 * first line of standard error, or else of standard output.
 */
int vdc_spawn_output(const char *const argv[], const char *const envp[], unsigned timeout_s,
		     struct strbuf *out, size_t max, struct vdc_err *err);

/*
 * Whether program `name` is installed in the system folders; its path goes
 * to `path` (PATH_MAX bytes) when it is.
 */
int vdc_spawn_find(const char *name, char *path);

#endif
