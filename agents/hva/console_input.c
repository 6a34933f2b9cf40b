/*
 * Console input: keys from vdcfs written to the ptys of the guests'
 * serial ports (console_input.h says how, docs/vdc-hva.md why).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "console_input.h"
#include "hva.h"
#include "log.h"
#include "proto.h"
#include "vdc_limits.h"
#include "wire_doc.h"

/* The long-poll's wait; vdcfs answers at once when keys come. */
#define FETCH_WAIT_S 25
#define BACKOFF_MAX_MS 10000
/* Keys kept for one pty that does not take them (a guest not reading): beyond, dropped. */
#define TTY_PENDING_MAX (64 * 1024)

/* Keys from the fetcher, with the pty it found for them. */
struct hva_queued {
	uint64_t id;
	char pty[HVA_PTY_MAX];
	unsigned char *buf;
	size_t len;
};

struct hva_tty {
	uint64_t id;
	char pty[HVA_PTY_MAX];
	int fd;                       /* the pty, raw, non-blocking */
	unsigned char *pending;       /* keys not written yet */
	size_t len;
};

/* ---- the fetcher ---- */

static bool stopping(struct hva_console_input *c)
{
	bool s;

	pthread_mutex_lock(&c->lock);
	s = c->stop;
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void wake(struct hva_console_input *c)
{
	uint64_t one = 1;

	if (write(c->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("console input: cannot wake the writer: %s", strerror(errno));
}

/* The domain of instance `id` among those the agent was told to run, or "" (core lock). */
static void domain_of(struct hva *h, uint64_t id, char *out, size_t size)
{
	size_t i;

	out[0] = '\0';
	pthread_mutex_lock(&h->core.lock);
	for (i = 0; i < h->n_status; i++) {
		if (h->status[i].id == id) {
			snprintf(out, size, "%s", h->status[i].domain);
			break;
		}
	}
	pthread_mutex_unlock(&h->core.lock);
}

/*
 * The pty of instance `id`'s running domain, from libvirt: here, in the
 * fetcher, so that the writer, which keeps the guests' output flowing,
 * never waits for libvirtd.
 */
static int pty_of_instance(struct hva *h, uint64_t id, char *pty, size_t size, struct vdc_err *err)
{
	char name[VDC_NAME_MAX + 1];
	virConnectPtr conn;
	virDomainPtr dom = NULL;
	char *xml = NULL;
	int rc = 0;

	domain_of(h, id, name, sizeof(name));
	if (!name[0])
		return vdc_err_set(err, -ENOENT, "instance %" PRIu64 " is not one of this host's", id);
	conn = hva_libvirt_get(h);
	if (!conn)
		return vdc_err_set(err, -EAGAIN, "libvirt is not connected");
	dom = virDomainLookupByName(conn, name);
	if (!dom || virDomainIsActive(dom) != 1)
		rc = vdc_err_set(err, -ENOENT, "domain %s is not running", name);
	else if (!(xml = virDomainGetXMLDesc(dom, 0)))
		rc = hva_virt_err(err, -EIO, "cannot read the definition of %s", name);
	else if (hva_console_pty_of(xml, pty, size) < 0)
		rc = vdc_err_set(err, -ENOTSUP, "domain %s has no pty serial port to type into", name);
	free(xml);
	if (dom)
		virDomainFree(dom);
	virConnectClose(conn);
	return rc;
}

/* Hand keys to the writer with their ptys, after any it has not taken yet. */
static void enqueue(struct hva_console_input *c, struct hva_keys *k, size_t n)
{
	struct vdc_err err = VDC_ERR_INIT;
	char pty[HVA_PTY_MAX];
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (pty_of_instance(c->h, k[i].id, pty, sizeof(pty), &err) < 0) {
			log_warn("console input: %zu bytes for instance %" PRIu64 " dropped: %s", k[i].len, k[i].id,
				 err.msg);
			continue;
		}
		pthread_mutex_lock(&c->lock);
		for (j = 0; j < c->n_queue && c->queue[j].id != k[i].id; j++)
			;
		if (j == c->n_queue) {
			c->queue = xrealloc(c->queue, (c->n_queue + 1) * sizeof(*c->queue));
			c->queue[c->n_queue++] = (struct hva_queued){ .id = k[i].id };
		}
		snprintf(c->queue[j].pty, sizeof(c->queue[j].pty), "%s", pty);
		c->queue[j].buf = xrealloc(c->queue[j].buf, c->queue[j].len + k[i].len);
		memcpy(c->queue[j].buf + c->queue[j].len, k[i].buf, k[i].len);
		c->queue[j].len += k[i].len;
		pthread_mutex_unlock(&c->lock);
	}
	wake(c);
}

static void *fetcher_thread(void *arg)
{
	struct hva_console_input *c = arg;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_conn conn;
	unsigned backoff_ms = 0;
	struct hva_keys *k;
	json_t *doc;
	size_t n;
	int rc;

	if (vdc_conn_init(&conn, &c->h->proto, &err) < 0) {
		log_error("console input: %s", err.msg);
		return NULL;
	}
	while (!stopping(c)) {
		doc = NULL;
		rc = vdc_proto_console_input(&conn, FETCH_WAIT_S, &doc, &err);
		if (rc == -ECANCELED)
			break;
		if (rc == 0)
			rc = hva_console_input_parse(doc, &k, &n, &err);
		json_decref(doc);
		if (rc < 0) {
			/* vdcfs away or older than this agent (404): try again, slower and slower. */
			if (!backoff_ms)
				log_warn("console input: %s", err.msg);
			backoff_ms = backoff_ms ? backoff_ms * 2 : 500;
			if (backoff_ms > BACKOFF_MAX_MS)
				backoff_ms = BACKOFF_MAX_MS;
			for (unsigned t = 0; t < backoff_ms && !stopping(c); t += 100)
				usleep(100 * 1000);
			continue;
		}
		backoff_ms = 0;
		if (n) {
			log_debug("console input: keys for %zu instances", n);
			enqueue(c, k, n);
		}
		hva_keys_free(k, n);
	}
	vdc_conn_release(&conn);
	return NULL;
}

/* ---- the writer ---- */

static void tty_close(struct hva_tty *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->pending);
	t->pending = NULL;
	t->len = 0;
}

/* Open a guest's pty raw and non-blocking: an fd, or a negative errno with the sentence. */
static int tty_open(uint64_t id, const char *pty, struct vdc_err *err)
{
	struct termios tio;
	int fd, rc;

	fd = open(pty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s, the console of instance %" PRIu64 ": %s", pty, id,
				   strerror(errno));
	/* Raw at once: no echo of the guest's output back into it, no CR/LF rewriting of keys. */
	if (tcgetattr(fd, &tio) < 0 || (cfmakeraw(&tio), tcsetattr(fd, TCSANOW, &tio)) < 0) {
		rc = vdc_err_set(err, -errno, "cannot make %s raw: %s", pty, strerror(errno));
		close(fd);
		return rc;
	}
	log_info("console input: typing into instance %" PRIu64 " through %s", id, pty);
	return fd;
}

static struct hva_tty *tty_find(struct hva_console_input *c, uint64_t id)
{
	size_t i;

	for (i = 0; i < c->n_ttys; i++) {
		if (c->ttys[i].id == id)
			return &c->ttys[i];
	}
	c->ttys = xrealloc(c->ttys, (c->n_ttys + 1) * sizeof(*c->ttys));
	c->ttys[c->n_ttys] = (struct hva_tty){ .id = id, .fd = -1 };
	return &c->ttys[c->n_ttys++];
}

static void queued_free(struct hva_queued *q, size_t n)
{
	size_t i;

	for (i = 0; q && i < n; i++)
		free(q[i].buf);
	free(q);
}

/* Take the fetcher's keys into the ptys' pending bytes. */
static void take_queue(struct hva_console_input *c)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_queued *q;
	size_t n, i;

	pthread_mutex_lock(&c->lock);
	q = c->queue;
	n = c->n_queue;
	c->queue = NULL;
	c->n_queue = 0;
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < n; i++) {
		struct hva_tty *t = tty_find(c, q[i].id);

		/* Another pty: the guest started again (its old one hung up, or is about to). */
		if (t->fd >= 0 && strcmp(t->pty, q[i].pty))
			tty_close(t);
		if (t->fd < 0) {
			snprintf(t->pty, sizeof(t->pty), "%s", q[i].pty);
			t->fd = tty_open(q[i].id, q[i].pty, &err);
		}
		if (t->fd < 0) {
			log_warn("console input: %zu bytes for instance %" PRIu64 " dropped: %s", q[i].len, q[i].id,
				 err.msg);
			t->fd = -1;
			continue;
		}
		if (t->len + q[i].len > TTY_PENDING_MAX) {
			log_warn("console input: instance %" PRIu64 " takes no keys; %zu bytes dropped", q[i].id,
				 q[i].len);
			continue;
		}
		t->pending = xrealloc(t->pending, t->len + q[i].len);
		memcpy(t->pending + t->len, q[i].buf, q[i].len);
		t->len += q[i].len;
	}
	queued_free(q, n);
}

static void tty_flush(struct hva_tty *t)
{
	ssize_t w;

	while (t->len) {
		w = write(t->fd, t->pending, t->len);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				log_info("console input: the console of instance %" PRIu64 " closed (%s)", t->id,
					 strerror(errno));
				tty_close(t);
			}
			return;
		}
		memmove(t->pending, t->pending + w, t->len - (size_t)w);
		t->len -= (size_t)w;
	}
}

/* What the guest printed comes back on the pty too: qemu logged it, so it is read and dropped. */
static void tty_drain(struct hva_tty *t)
{
	char buf[4096];
	ssize_t r;

	while ((r = read(t->fd, buf, sizeof(buf))) > 0)
		;
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		log_debug("console input: the console of instance %" PRIu64 " hung up", t->id);
		tty_close(t);
	}
}

static void *writer_thread(void *arg)
{
	struct hva_console_input *c = arg;
	struct pollfd *pfd = NULL;
	size_t i, k;

	while (!stopping(c)) {
		pfd = xrealloc(pfd, (c->n_ttys + 1) * sizeof(*pfd));
		pfd[0] = (struct pollfd){ .fd = c->wake_fd, .events = POLLIN };
		for (i = 0; i < c->n_ttys; i++) {
			pfd[i + 1].fd = c->ttys[i].fd;   /* -1: ignored by poll */
			pfd[i + 1].events = (short)(POLLIN | (c->ttys[i].len ? POLLOUT : 0));
			pfd[i + 1].revents = 0;
		}
		if (poll(pfd, c->n_ttys + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("console input: poll: %s", strerror(errno));
			break;
		}
		for (i = 0; i < c->n_ttys; i++) {
			struct hva_tty *t = &c->ttys[i];

			if (t->fd < 0 || !pfd[i + 1].revents)
				continue;
			if (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))
				tty_drain(t);
			if (t->fd >= 0 && t->len)
				tty_flush(t);
		}
		if (pfd[0].revents & POLLIN) {
			uint64_t v;

			if (read(c->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_warn("console input: %s", strerror(errno));
			take_queue(c);
			for (i = 0; i < c->n_ttys; i++) {
				if (c->ttys[i].fd >= 0 && c->ttys[i].len)
					tty_flush(&c->ttys[i]);
			}
		}
		/* Forget the closed ones. */
		for (i = k = 0; i < c->n_ttys; i++) {
			if (c->ttys[i].fd >= 0)
				c->ttys[k++] = c->ttys[i];
		}
		c->n_ttys = k;
	}
	free(pfd);
	return NULL;
}

/* ---- life ---- */

int hva_console_input_init(struct hva_console_input *c, struct hva *h, struct vdc_err *err)
{
	memset(c, 0, sizeof(*c));
	c->h = h;
	pthread_mutex_init(&c->lock, NULL);
	c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->wake_fd < 0)
		return vdc_err_set(err, -errno, "cannot make an eventfd: %s", strerror(errno));
	return 0;
}

int hva_console_input_start(struct hva_console_input *c, struct vdc_err *err)
{
	int rc = pthread_create(&c->writer, NULL, writer_thread, c);

	if (rc)
		return vdc_err_set(err, -rc, "cannot start the console input writer: %s", strerror(rc));
	c->started_writer = true;
	rc = pthread_create(&c->fetcher, NULL, fetcher_thread, c);
	if (rc)
		return vdc_err_set(err, -rc, "cannot start the console input fetcher: %s", strerror(rc));
	c->started_fetcher = true;
	return 0;
}

void hva_console_input_release(struct hva_console_input *c)
{
	size_t i;

	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_mutex_unlock(&c->lock);
	if (c->wake_fd >= 0)
		wake(c);
	if (c->started_fetcher)
		pthread_join(c->fetcher, NULL);
	if (c->started_writer)
		pthread_join(c->writer, NULL);
	for (i = 0; i < c->n_ttys; i++)
		tty_close(&c->ttys[i]);
	free(c->ttys);
	queued_free(c->queue, c->n_queue);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	pthread_mutex_destroy(&c->lock);
}
