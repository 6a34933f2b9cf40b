/*
 * Kernel cache invalidation: the live files the kernel knows of, and
 * telling it when they change (see notify.h). Kept apart from the
 * operations so that the rules of what the kernel may cache are in one
 * place, next to the entries that hand inodes out.
 */
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "notify.h"

/*
 * Telling the kernel that live files changed. The model calls live_changed()
 * with its lock held; the request that caused the change tells the kernel
 * before it lets go of the lock (tell_kernel()), so no reader can see the
 * new content with the old size, and the caller's next stat sees the new
 * one. Only attributes are invalidated, which needs nothing from vdcfs:
 * safe inside a request and under the lock.
 */
#define LIVE_MAX 64
static struct fuse_session *session;
static __thread uint64_t live_inos[LIVE_MAX];
static __thread size_t nlive;

/*
 * The live files the kernel has an inode for, with the kernel's lookup
 * count (every entry handed out adds one, FORGET takes its count back, in
 * whatever order they are served): only those need telling, which spares a
 * system call per run/ file of every object a write touches.
 */
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vdc_imap known;

static void kernel_learns(const struct node *n, uint64_t ino)
{
	if (n->type != N_RUNFILE && n->type != N_GFILE && !(n->type == N_DATA && n->kind->block))
		return;
	pthread_mutex_lock(&known_lock);
	vdc_imap_put(&known, ino, (void *)((intptr_t)vdc_imap_get(&known, ino) + 1));
	pthread_mutex_unlock(&known_lock);
}

void kernel_forgets(uint64_t ino, uint64_t nlookup)
{
	intptr_t n;

	pthread_mutex_lock(&known_lock);
	n = (intptr_t)vdc_imap_get(&known, ino) - (intptr_t)nlookup;
	if (n > 0)
		vdc_imap_put(&known, ino, (void *)n);
	else
		vdc_imap_del(&known, ino);
	pthread_mutex_unlock(&known_lock);
}

void live_changed(const struct vdc_obj *obj)
{
	uint64_t inos[TREE_LIVE_INOS_MAX];
	size_t i, j, n = tree_live_inos(obj, inos, TREE_LIVE_INOS_MAX);

	pthread_mutex_lock(&known_lock);
	for (i = 0, j = 0; i < n; i++)
		if (vdc_imap_get(&known, inos[i]))
			inos[j++] = inos[i];
	pthread_mutex_unlock(&known_lock);
	n = j;
	for (i = 0; i < n; i++) {
		for (j = 0; j < nlive && live_inos[j] != inos[i]; j++)
			;
		if (j == nlive && nlive < LIVE_MAX)
			live_inos[nlive++] = inos[i];
	}
}

void tell_kernel(void)
{
	size_t i;

	for (i = 0; i < nlive; i++)
		fuse_lowlevel_notify_inval_inode(session, live_inos[i], -1, 0);
	nlive = 0;
}

/*
 * A temporary file's attributes are not cached: once renamed onto an
 * attribute, its inode stands for the attribute (tree_alias) and must
 * report the attribute's number. Live files are cached like the rest; the
 * kernel is told when they change (live_changed()).
 */
double attr_timeout(const struct node *n)
{
	/*
	 * run/events, metrics.prom and dashboard.html have a size per reader:
	 * the kernel's one copy would be another's.
	 */
	if (n->type == N_GFILE && (n->idx == G_RUN_EVENTS || tree_gfile_rendered_at_open(n->idx)))
		return 0;
	return n->type == N_SCRATCH ? 0 : ATTR_TIMEOUT;
}

void fill_entry(const struct node *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	tree_stat(n, &e->attr);
	e->ino = e->attr.st_ino;
	kernel_learns(n, e->ino);
	e->entry_timeout = ENTRY_TIMEOUT;
	e->attr_timeout = attr_timeout(n);
}

void notify_start(struct fuse_session *se)
{
	session = se;
}

void notify_stop(void)
{
	session = NULL;
	vdc_imap_clear(&known);
}

void kernel_inval_inode(uint64_t ino)
{
	if (session)
		fuse_lowlevel_notify_inval_inode(session, ino, -1, 0);
}

void kernel_inval_entry(uint64_t parent, const char *name, size_t len)
{
	if (session)
		fuse_lowlevel_notify_inval_entry(session, parent, name, len);
}
