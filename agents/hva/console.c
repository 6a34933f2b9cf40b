#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "console.h"
#include "log.h"

/* Uploads of one log are at least this far apart, so a chatty guest is batched. */
#define PUMP_GAP_MS 50
/* A log that cannot be watched yet (not made) is looked for this often. */
#define WATCH_RETRY_MS 1000
#define BACKOFF_MAX_MS 30000
/* The most uploads of one log in one go, before the others get a turn. */
#define PUMP_ROUNDS 32

struct hva_follow {
	uint64_t id;
	char path[PATH_MAX];
	int wd;                  /* -1 while not watched */
	bool synced;             /* vdcfs was asked what it has */
	bool dirty;              /* there may be bytes to send */
	uint64_t sent;           /* bytes of the log vdcfs holds, as far as we know */
	unsigned failures;
	long retry_at;           /* ms, after a failure or for a missing log */
	long last_pump;          /* ms */
};

uint64_t hva_console_resume_at(uint64_t have, uint64_t size)
{
	uint64_t floor = size > VDC_CONSOLE_CHUNK ? size - VDC_CONSOLE_CHUNK : 0;

	if (have > size)
		have = size;
	return have > floor ? have : floor;
}

int hva_console_init(struct hva_console *c, struct vdc_proto *p, struct vdc_err *err)
{
	memset(c, 0, sizeof(*c));
	c->proto = p;
	pthread_mutex_init(&c->lock, NULL);
	c->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (c->inotify_fd < 0)
		return vdc_err_set(err, -errno, "cannot start inotify: %s", strerror(errno));
	c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->wake_fd < 0)
		return vdc_err_set(err, -errno, "cannot make an eventfd: %s", strerror(errno));
	return 0;
}

static void wake(struct hva_console *c)
{
	uint64_t one = 1;

	if (write(c->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("console: cannot wake the follower: %s", strerror(errno));
}

void hva_console_set(struct hva_console *c, const struct hva_console_target *t, size_t n)
{
	pthread_mutex_lock(&c->lock);
	free(c->want);
	c->want = n ? xcalloc(n, sizeof(*t)) : NULL;
	if (n)
		memcpy(c->want, t, n * sizeof(*t));
	c->n_want = n;
	c->changed = true;
	pthread_mutex_unlock(&c->lock);
	wake(c);
}

void hva_console_resync(struct hva_console *c)
{
	pthread_mutex_lock(&c->lock);
	c->resync = true;
	pthread_mutex_unlock(&c->lock);
	wake(c);
}

static void unwatch(struct hva_console *c, struct hva_follow *f)
{
	if (f->wd >= 0)
		inotify_rm_watch(c->inotify_fd, f->wd);
	f->wd = -1;
}

/* Take the wanted set: keep what stays, add what is new, drop the rest. */
static void apply_set(struct hva_console *c)
{
	struct hva_follow *next;
	size_t i, j, n = 0;

	pthread_mutex_lock(&c->lock);
	next = c->n_want ? xcalloc(c->n_want, sizeof(*next)) : NULL;
	for (i = 0; i < c->n_want; i++) {
		const struct hva_console_target *t = &c->want[i];

		for (j = 0; j < c->n_follows; j++)
			if (c->follows[j].id == t->id && strcmp(c->follows[j].path, t->path) == 0)
				break;
		if (j < c->n_follows) {
			next[n] = c->follows[j];
			c->follows[j].id = 0;   /* moved */
		} else {
			next[n].id = t->id;
			snprintf(next[n].path, sizeof(next[n].path), "%s", t->path);
			next[n].wd = -1;
			next[n].dirty = true;
		}
		n++;
	}
	c->changed = false;
	pthread_mutex_unlock(&c->lock);
	for (j = 0; j < c->n_follows; j++)
		if (c->follows[j].id)
			unwatch(c, &c->follows[j]);
	free(c->follows);
	c->follows = next;
	c->n_follows = n;
}

static void fail_later(struct hva_follow *f, long now)
{
	long backoff = 1000L << (f->failures < 5 ? f->failures : 5);

	f->failures++;
	f->retry_at = now + (backoff < BACKOFF_MAX_MS ? backoff : BACKOFF_MAX_MS);
}

/* Send what vdcfs lacks of one log. */
static void pump(struct vdc_conn *link, struct hva_follow *f, long now)
{
	static char buf[VDC_CONSOLE_CHUNK];
	struct vdc_err err = VDC_ERR_INIT;
	struct stat st;
	uint64_t have;
	int fd, round, rc = 0;

	f->last_pump = now;
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		f->retry_at = now + WATCH_RETRY_MS;
		return;
	}
	if (!f->synced) {
		rc = vdc_proto_console(link, f->id, 0, NULL, 0, &have, &err);
		if (rc < 0)
			goto fail;
		f->sent = hva_console_resume_at(have, (uint64_t)st.st_size);
		f->synced = true;
	}
	if (f->sent > (uint64_t)st.st_size)
		f->sent = hva_console_resume_at(0, (uint64_t)st.st_size);
	for (round = 0; round < PUMP_ROUNDS && f->sent < (uint64_t)st.st_size; round++) {
		uint64_t left = (uint64_t)st.st_size - f->sent;
		size_t len = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t n = pread(fd, buf, len, (off_t)f->sent);

		if (n <= 0)
			break;
		rc = vdc_proto_console(link, f->id, f->sent, buf, (size_t)n, &have, &err);
		if (rc < 0)
			goto fail;
		if (have < f->sent + (uint64_t)n)
			f->sent = hva_console_resume_at(have, (uint64_t)st.st_size);   /* vdcfs restarted */
		else
			f->sent = have < (uint64_t)st.st_size ? have : (uint64_t)st.st_size;
	}
	close(fd);
	f->failures = 0;
	f->retry_at = 0;
	f->dirty = f->sent < (uint64_t)st.st_size;
	return;
fail:
	close(fd);
	if (rc == -ECANCELED)
		return;   /* the agent is stopping */
	if (f->failures == 0 || !vdc_proto_transient(rc))
		log_warn("console of instance %llu: %s", (unsigned long long)f->id, err.msg);
	fail_later(f, now);
}

static void read_events(struct hva_console *c)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	size_t i;

	for (;;) {
		ssize_t n = read(c->inotify_fd, buf, sizeof(buf));
		char *p;

		if (n <= 0)
			return;
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			for (i = 0; i < c->n_follows; i++) {
				struct hva_follow *f = &c->follows[i];

				if (f->wd != ev->wd)
					continue;
				if (ev->mask & IN_IGNORED)
					f->wd = -1;   /* the log went away */
				else
					f->dirty = true;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void *follower_thread(void *arg)
{
	struct hva_console *c = arg;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_conn link;

	if (vdc_conn_init(&link, c->proto, &err) < 0) {
		log_error("console follower: %s", err.msg);
		return NULL;
	}
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = c->inotify_fd, .events = POLLIN },
			{ .fd = c->wake_fd, .events = POLLIN },
		};
		long now = vdc_agent_now_ms(), next = now + 60000;
		bool stop, changed, resync;
		size_t i;

		for (i = 0; i < c->n_follows; i++) {
			struct hva_follow *f = &c->follows[i];
			long at = f->retry_at > f->last_pump + PUMP_GAP_MS ? f->retry_at : f->last_pump + PUMP_GAP_MS;

			if (f->wd < 0 && f->retry_at < next)
				next = f->retry_at;
			if ((f->dirty || !f->synced) && at < next)
				next = at;
		}
		if (poll(pfd, 2, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			if (read(c->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				break;
		}
		pthread_mutex_lock(&c->lock);
		stop = c->stop;
		changed = c->changed;
		resync = c->resync;
		c->resync = false;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		if (changed)
			apply_set(c);
		for (i = 0; resync && i < c->n_follows; i++) {
			c->follows[i].synced = false;
			c->follows[i].retry_at = 0;
			c->follows[i].failures = 0;
		}
		if (pfd[0].revents & POLLIN)
			read_events(c);
		now = vdc_agent_now_ms();
		for (i = 0; i < c->n_follows; i++) {
			struct hva_follow *f = &c->follows[i];

			if (f->wd < 0 && now >= f->retry_at) {
				f->wd = inotify_add_watch(c->inotify_fd, f->path,
							  IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE);
				if (f->wd < 0)
					f->retry_at = now + WATCH_RETRY_MS;
				else
					f->dirty = true;
			}
			if ((f->dirty || !f->synced) && now >= f->retry_at && now >= f->last_pump + PUMP_GAP_MS)
				pump(&link, f, now);
		}
	}
	vdc_conn_release(&link);
	return NULL;
}

int hva_console_start(struct hva_console *c, struct vdc_err *err)
{
	int rc = pthread_create(&c->thread, NULL, follower_thread, c);

	if (rc)
		return vdc_err_set(err, -rc, "cannot start the console follower: %s", strerror(rc));
	c->started = true;
	return 0;
}

void hva_console_release(struct hva_console *c)
{
	size_t i;

	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_mutex_unlock(&c->lock);
		wake(c);
		pthread_join(c->thread, NULL);
	}
	for (i = 0; i < c->n_follows; i++)
		unwatch(c, &c->follows[i]);
	free(c->follows);
	free(c->want);
	if (c->inotify_fd > 0)
		close(c->inotify_fd);
	if (c->wake_fd > 0)
		close(c->wake_fd);
	pthread_mutex_destroy(&c->lock);
}
