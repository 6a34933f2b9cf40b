/*
 * The agent server: HTTPS (libmicrohttpd with GnuTLS), the protocol of
 * docs/agent-protocol.md; its JSON documents are rendered and parsed by
 * the wire module (wire.c, agent_doc.c).
 *
 * Each connection has its own thread (long-polls block in it). A request
 * is parsed without the model lock, then served under it: the read lock to
 * render a host's desired state, the write lock to record a report.
 *
 * A stranger gets as little as can be given: a joined host's request is
 * authenticated by its token from the headers, before a byte of its body is
 * read; a join may send VDC_DOC_JOIN_BYTES_MAX bytes; connections not yet
 * authenticated are bounded in all and per address; and refusals of
 * strangers are counted per address and logged at most once a minute each,
 * in at most REFUSALS_FIRST_LINES + REFUSALS_SUM_LINES lines a minute in all (the numbers are in
 * docs/agent-protocol.md, "Limits"). A refused request
 * is answered at once, without reading the rest of its body.
 *
 * About 1,300 lines: the HTTP routes and every bound a stranger meets
 * (connections, bodies, refusals and their counting) stay in one file so
 * that what reaches the model from the network can be read in one place.
 * Image checksums are imagesum.c's, the documents wire.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_doc.h"
#include "agentd.h"
#include "counters.h"
#include "host.h"
#include "imagesum.h"
#include "instance.h"
#include "network.h"
#include "place.h"
#include "reconcile.h"
#include "tls.h"
#include "volume.h"
#include "wire.h"

#define POLL_DEFAULT 25
#define POLL_MAX 30

/* Connections in all, and those not yet authenticated: in all and from one address. */
#define CONN_MAX 4096u
#define UNAUTH_MAX 128u
#define UNAUTH_PER_ADDR 16u
/* Seconds a connection may idle before it is authenticated (then POLL_MAX + 30). */
#define UNAUTH_TIMEOUT 20u
/*
 * Refusals of strangers: addresses remembered, the seconds of one line of
 * each, and the lines of all addresses together in those seconds: first
 * refusals logged as they are, and sums (apart, so that a crowd of new
 * addresses cannot crowd out the sum of one that has been refused on and
 * on).
 */
#define REFUSALS_ADDRS 256
#define REFUSALS_WINDOW 60
#define REFUSALS_FIRST_LINES 32
#define REFUSALS_SUM_LINES 32

static struct vdc_tls tls;
static struct vdc_tls ca;   /* the data center's CA for its hypervisors' libvirtd (tls.h) */
static int listen_fd = -1;
static struct sockaddr_in bound;
static char advertise[128];
static struct MHD_Daemon *daemon_;
static pthread_t ticker;
static bool ticker_running;
static _Atomic bool stopping;   /* set by vdc_agentd_stop, read by the tick thread */

/* One TCP connection (MHD's socket context). */
struct conn {
	struct conn *next;
	uint32_t addr;                  /* IPv4, network order */
	bool authed;                    /* a request of it was a joined host's, or a join */
};
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;
static unsigned conns_unauth;

/*
 * Refusals of strangers from one address: the first of a window is logged
 * as it is, the rest of the window counted and logged as one line when
 * the window ends.
 */
struct refusals {
	uint32_t addr;                  /* network order; 0: a free slot */
	bool open;                      /* a window is running */
	struct timespec opened, last;   /* CLOCK_MONOTONIC */
	uint64_t count;                 /* refused in this window after its first */
};
static pthread_mutex_t refusals_lock = PTHREAD_MUTEX_INITIALIZER;
static struct refusals refusals[REFUSALS_ADDRS];
/* Lines the accepting thread left for the ticker to log, so it never waits for the model's lock. */
static struct strbuf refusals_pending = STRBUF_INIT;
/*
 * The lines of this minute, and what was counted without a line of its
 * own once REFUSALS_LINES were spent: many addresses (a whole network of
 * an attacker's) get one line between them.
 */
static struct timespec refusals_minute;
static unsigned refusals_first_lines, refusals_sum_lines;
static uint64_t overflow_count, overflow_addrs;

/* What a request is, told from its headers. */
enum route_kind { R_NONE, R_JOIN, R_DESIRED, R_REPORT, R_CONSOLE, R_CONSOLE_INPUT, R_IMAGE };

struct request {
	struct strbuf body;
	enum route_kind kind;
	char name[VDC_NAME_MAX + 1];    /* the host of a host's request */
	const char *rest;               /* in the url: after /v1/hosts/NAME/ */
	size_t limit;                   /* bytes of body allowed */
	bool answered;                  /* a reply was queued before the body */
};

/* ---- start and stop ---- */

static int parse_listen(const char *spec, struct sockaddr_in *sa, struct vdc_err *err)
{
	const char *colon = strrchr(spec, ':');
	char host[64];
	uint64_t port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return vdc_err_set(err, -EINVAL, "listen=%s is not ADDRESS:PORT, like 0.0.0.0:7443", VDC_Q(spec));
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return vdc_err_set(err, -EINVAL, "listen=%s: %s is not an IPv4 address", VDC_Q(spec), VDC_Q(host));
	if (vdc_uint_parse(colon + 1, strlen(colon + 1), "the port", 0, 65535, &port, err) < 0)
		return -EINVAL;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

/* The address agents should dial: the bound one, or the first non-loopback IPv4. */
static void pick_advertise(const char *given)
{
	char addr[INET_ADDRSTRLEN] = "127.0.0.1";
	struct ifaddrs *ifs, *i;

	if (given && *given) {
		snprintf(advertise, sizeof(advertise), "%s", given);
		return;
	}
	if (bound.sin_addr.s_addr != htonl(INADDR_ANY)) {
		inet_ntop(AF_INET, &bound.sin_addr, addr, sizeof(addr));
	} else if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK))
				continue;
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof(addr));
			break;
		}
		freeifaddrs(ifs);
	}
	snprintf(advertise, sizeof(advertise), "%s:%u", addr, ntohs(bound.sin_port));
}

/* A listening socket on `sa`, or -errno. */
static int bind_listen(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(fd, 128) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * The address agents dial is the data center's: the one given with
 * -o listen, else the one kept in STATE/listen by an earlier mount (the
 * agents of this data center dial it), else the default, 0.0.0.0:7443, or
 * a free port when another program (a second vdcfs) holds 7443. The
 * address bound is kept for the next mount (docs/agent-protocol.md).
 */
int vdc_agentd_prepare(const char *statedir, const struct vdc_agentd_opts *o, struct vdc_err *err)
{
	const char *listen_spec = o->listen, *advertise_spec = o->advertise;
	__do_strbuf struct strbuf kept_path = STRBUF_INIT;
	__do_strbuf struct strbuf line = STRBUF_INIT;
	__do_free char *kept = NULL;
	const char *spec = listen_spec;
	char addr[INET_ADDRSTRLEN], now[INET_ADDRSTRLEN + 8];
	socklen_t len = sizeof(bound);
	int rc;

	vdc_hosts_configure(o->host_timeout_s, o->heartbeat_s);
	strbuf_addf(&kept_path, "%s/listen", statedir);
	if (!spec && vdc_state_read(kept_path.buf, &kept, NULL) == 0) {
		kept[strcspn(kept, "\n")] = 0;
		spec = kept;
	}
	rc = parse_listen(spec ? spec : VDC_AGENTD_LISTEN, &bound, err);
	if (rc < 0 && kept)
		return vdc_err_set(err, rc, "%s holds '%s', which is not ADDRESS:PORT; remove it or give -o listen=ADDR:PORT",
				   kept_path.buf, VDC_Q(kept));
	if (rc < 0)
		return rc;
	rc = vdc_tls_setup(statedir, &tls, err);
	if (rc == 0)
		rc = vdc_tls_ca_setup(statedir, &ca, err);
	if (rc < 0)
		return rc;
	vdc_wire_pki_ca(ca.cert_pem);
	listen_fd = bind_listen(&bound);
	if (listen_fd == -EADDRINUSE && !spec) {
		bound.sin_port = 0;
		listen_fd = bind_listen(&bound);
	}
	if (listen_fd < 0) {
		rc = listen_fd;
		listen_fd = -1;
		if (kept)
			return vdc_err_set(err, rc, "cannot listen on %s for agents: %s (the address kept in %s, which this data center's agents dial; free it, or give -o listen=ADDR:PORT)",
					   kept, strerror(-rc), kept_path.buf);
		return vdc_err_set(err, rc, "cannot listen on %s for agents: %s",
				   spec ? spec : VDC_AGENTD_LISTEN, strerror(-rc));
	}
	getsockname(listen_fd, (struct sockaddr *)&bound, &len);
	inet_ntop(AF_INET, &bound.sin_addr, addr, sizeof(addr));
	snprintf(now, sizeof(now), "%s:%u", addr, ntohs(bound.sin_port));
	if (!kept || strcmp(kept, now) != 0) {
		strbuf_addf(&line, "%s\n", now);
		rc = vdc_state_write(kept_path.buf, line.buf, line.len, err);
		if (rc < 0) {
			close(listen_fd);
			listen_fd = -1;
			return rc;
		}
	}
	pick_advertise(advertise_spec);
	return 0;
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char b[32];

	gnutls_rnd(GNUTLS_RND_KEY, b, bytes);
	vdc_hex(b, bytes, out);
}

/* The data center's id and join token, made once and kept in the store. */
static int ensure_secrets(struct vdc_err *err)
{
	char v[65];
	int rc = 0;

	if (!vdc_model_meta("dc")) {
		random_hex(v, 16);
		rc = vdc_model_meta_put("dc", v, err);
	}
	if (rc == 0 && !vdc_model_meta("join-token")) {
		random_hex(v, 32);
		rc = vdc_model_meta_put("join-token", v, err);
	}
	return rc;
}

void vdc_agentd_show_join(struct strbuf *out)
{
	const char *token = vdc_model_meta("join-token");

	if (listen_fd < 0 && !daemon_) {
		strbuf_addstr(out, "# the agent server is not running\n");
		return;
	}
	strbuf_addf(out, "vdc-hva --server %s --pin %s --token %s\n", advertise, tls.pin, token ? token : "");
	strbuf_addf(out, "vdc-sta --server %s --pin %s --token %s\n", advertise, tls.pin, token ? token : "");
}

/* ---- replies ---- */

/* Answer with `text` (wire.c's JSON, taken over; NULL: out of memory, the connection is dropped). */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!text)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply(c, status, vdc_wire_error(msg));
}

static uint32_t client_ip(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		return ((const struct sockaddr_in *)ci->client_addr)->sin_addr.s_addr;
	return 0;
}

static void ip_text(uint32_t ip, char *out, size_t n)
{
	struct in_addr a = { .s_addr = ip };

	snprintf(out, n, "?");
	if (ip)
		inet_ntop(AF_INET, &a, out, (socklen_t)n);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t n)
{
	ip_text(client_ip(c), out, n);
}

/* Log a refusal of a joined host (or of one who holds the join token) in run/events and answer it. */
static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status, const char *what, const char *why)
{
	char addr[INET6_ADDRSTRLEN];

	vdc_count(VDC_C_AGENT_REFUSED_REQ);
	client_addr(c, addr, sizeof(addr));
	vdc_model_wrlock();
	vdc_event(NULL, "refused %s from %s: %s", what, addr, why);
	vdc_model_flush();
	vdc_model_unlock();
	return reply_error(c, status, why);
}

/* ---- refusals of strangers, counted ---- */

static long seconds_since(const struct timespec *then, const struct timespec *now)
{
	return (long)(now->tv_sec - then->tv_sec) - (now->tv_nsec < then->tv_nsec);
}

/* The summary line of a window of `r` into `out` ("" when it counted nothing). */
/* May one more line of refusals (a first one, or a sum) be logged in this minute? refusals_lock held. */
static bool refusals_line(bool sum)
{
	unsigned *n = sum ? &refusals_sum_lines : &refusals_first_lines;

	if (*n >= (sum ? REFUSALS_SUM_LINES : REFUSALS_FIRST_LINES))
		return false;
	(*n)++;
	return true;
}

static void refusals_summary(const struct refusals *r, const struct timespec *now, struct strbuf *out)
{
	char addr[INET_ADDRSTRLEN];

	if (!r->count)
		return;
	if (!refusals_line(true)) {
		overflow_count += r->count;
		overflow_addrs++;
		return;
	}
	ip_text(r->addr, addr, sizeof(addr));
	strbuf_addf(out, "agent server: refused %" PRIu64 " unauthenticated request%s from %s in the last %ld s\n",
		    r->count, r->count == 1 ? "" : "s", addr, seconds_since(&r->opened, now));
}

/* Log each line of `lines` as an event of the data center; the model's write lock is held. */
static void log_lines(const struct strbuf *lines)
{
	const char *p = lines->buf, *nl;

	while (*p && (nl = strchr(p, '\n'))) {
		vdc_event(NULL, "%.*s", (int)(nl - p), p);
		p = nl + 1;
	}
}

/*
 * Count a refusal of a stranger from `ip`. True when it is the first of
 * its address's window and so is to be logged in full; lines to log
 * besides (the summary of an address evicted from the table) go to
 * `lines`. The table holds REFUSALS_ADDRS addresses; a new one takes the
 * slot of the one refused longest ago, whose count is logged then so
 * that none is lost.
 */
static bool refusal_count(uint32_t ip, struct strbuf *lines)
{
	struct refusals *r = NULL;
	struct timespec now;
	bool first = false;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&refusals_lock);
	for (i = 0; i < REFUSALS_ADDRS && !r; i++)
		if (refusals[i].open && refusals[i].addr == ip)
			r = &refusals[i];
	if (r) {
		r->count++;
	} else {
		r = &refusals[0];
		for (i = 0; i < REFUSALS_ADDRS && r->open; i++)
			if (!refusals[i].open || refusals[i].last.tv_sec < r->last.tv_sec ||
			    (refusals[i].last.tv_sec == r->last.tv_sec && refusals[i].last.tv_nsec < r->last.tv_nsec))
				r = &refusals[i];
		if (r->open)
			refusals_summary(r, &now, lines);
		memset(r, 0, sizeof(*r));
		r->addr = ip;
		r->open = true;
		r->opened = now;
		first = refusals_line(false);
		r->count = !first;   /* no line left: its summary counts it */
	}
	r->last = now;
	pthread_mutex_unlock(&refusals_lock);
	return first;
}

/*
 * Windows that have run REFUSALS_WINDOW seconds end: the count of each is
 * logged, and an address still refused goes on in a new window without a
 * line of its own, so it gets one line a minute. The model's write lock
 * is held.
 */
static void refusals_tick(void)
{
	__do_strbuf struct strbuf lines = STRBUF_INIT;
	struct timespec now;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&refusals_lock);
	for (i = 0; i < REFUSALS_ADDRS; i++) {
		struct refusals *r = &refusals[i];

		if (!r->open || seconds_since(&r->opened, &now) < REFUSALS_WINDOW)
			continue;
		refusals_summary(r, &now, &lines);
		if (r->count) {
			r->opened = now;
			r->count = 0;
		} else {
			r->open = false;
		}
	}
	if (seconds_since(&refusals_minute, &now) >= REFUSALS_WINDOW) {
		if (overflow_count)
			strbuf_addf(&lines, "agent server: refused %" PRIu64 " more unauthenticated request%s from %" PRIu64
				    " more address%s in the last %ld s (past %d lines a minute)\n", overflow_count,
				    overflow_count == 1 ? "" : "s", overflow_addrs, overflow_addrs == 1 ? "" : "es",
				    seconds_since(&refusals_minute, &now), REFUSALS_FIRST_LINES + REFUSALS_SUM_LINES);
		overflow_count = overflow_addrs = 0;
		refusals_first_lines = refusals_sum_lines = 0;
		refusals_minute = now;
	}
	strbuf_add(&lines, refusals_pending.buf, refusals_pending.len);
	strbuf_reset(&refusals_pending);
	pthread_mutex_unlock(&refusals_lock);
	log_lines(&lines);
}

/*
 * Count a refusal of a stranger from `ip`, logging it when it is the first
 * of the address's window: at once, or with `defer` by the ticker within
 * a second (the thread that accepts connections must not wait for the
 * model's lock, which a long write may hold).
 */
static void stranger_refused(uint32_t ip, const char *what, const char *why, bool defer)
{
	__do_strbuf struct strbuf lines = STRBUF_INIT;
	bool first = refusal_count(ip, &lines);
	char addr[INET_ADDRSTRLEN];

	if (!first && !lines.len)
		return;
	ip_text(ip, addr, sizeof(addr));
	if (defer) {
		pthread_mutex_lock(&refusals_lock);
		strbuf_add(&refusals_pending, lines.buf, lines.len);
		if (first)
			strbuf_addf(&refusals_pending, "refused %s from %s: %s\n", what, addr, why);
		pthread_mutex_unlock(&refusals_lock);
		return;
	}
	vdc_model_wrlock();
	log_lines(&lines);
	if (first)
		vdc_event(NULL, "refused %s from %s: %s", what, addr, why);
	vdc_model_flush();
	vdc_model_unlock();
}

/* Refuse a request of a stranger (no valid token): counted, and answered at once. */
static enum MHD_Result refuse_stranger(struct MHD_Connection *c, unsigned status, const char *what,
				       const char *why)
{
	vdc_count(VDC_C_AGENT_REFUSED_REQ);
	stranger_refused(client_ip(c), what, why, false);
	return reply_error(c, status, why);
}

/* ---- connections ---- */

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* Not yet authenticated connections from `ip`; conns_lock held. */
static unsigned unauth_from(uint32_t ip)
{
	unsigned n = 0;
	struct conn *k;

	for (k = conns; k; k = k->next)
		n += !k->authed && k->addr == ip;
	return n;
}

/*
 * A new connection is accepted while fewer than UNAUTH_MAX connections in
 * all, and UNAUTH_PER_ADDR from its address, have not yet authenticated:
 * strangers can hold that many connections (each a thread, a TLS session
 * and MHD's buffers) and no more, however many they open.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t len)
{
	uint32_t ip = sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in) ?
		      ((const struct sockaddr_in *)sa)->sin_addr.s_addr : 0;
	unsigned all, mine;
	char why[128];

	(void)cls;
	pthread_mutex_lock(&conns_lock);
	all = conns_unauth;
	mine = unauth_from(ip);
	pthread_mutex_unlock(&conns_lock);
	if (all < UNAUTH_MAX && mine < UNAUTH_PER_ADDR)
		return MHD_YES;
	if (mine >= UNAUTH_PER_ADDR)
		snprintf(why, sizeof(why), "it has %u connections that have not authenticated", mine);
	else
		snprintf(why, sizeof(why), "%u connections have not authenticated", all);
	vdc_count(VDC_C_AGENT_REFUSED_CONN);
	stranger_refused(ip, "a connection", why, true);
	return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct conn *k = *socket_ctx, **p;

	(void)cls;
	pthread_mutex_lock(&conns_lock);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		k = xcalloc(1, sizeof(*k));
		k->addr = client_ip(c);
		k->next = conns;
		conns = k;
		conns_unauth++;
		*socket_ctx = k;
		vdc_count(VDC_C_AGENT_ACCEPTED);
		vdc_gauge_add(VDC_G_AGENT_OPEN, 1);
	} else if (k) {
		for (p = &conns; *p && *p != k; p = &(*p)->next)
			;
		if (*p)
			*p = k->next;
		if (!k->authed)
			conns_unauth--;
		free(k);
		vdc_gauge_add(VDC_G_AGENT_OPEN, -1);
		*socket_ctx = NULL;
	}
	pthread_mutex_unlock(&conns_lock);
}

/* The connection carried a joined host's request: it no longer counts as a stranger's. */
static void conn_authenticated(struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	pthread_mutex_lock(&conns_lock);
	if (k && !k->authed) {
		k->authed = true;
		conns_unauth--;
	}
	pthread_mutex_unlock(&conns_lock);
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)(POLL_MAX + 30));
}

/* ---- join ---- */

static enum MHD_Result serve_join(struct MHD_Connection *c, const struct request *rq)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_join j;
	const char *want;
	char host_token[65];
	bool ok;
	int rc;

	if (vdc_doc_join_parse(rq->body.buf, rq->body.len, &j, &err) < 0)
		return refuse_stranger(c, MHD_HTTP_BAD_REQUEST, "a join", err.msg);
	vdc_model_wrlock();
	want = vdc_model_meta("join-token");
	ok = want && vdc_secret_equal(want, j.token);
	rc = ok ? vdc_host_join(j.name, j.sta ? VDC_ROLE_STA : VDC_ROLE_HVA, host_token, &err) :
		  vdc_err_set(&err, -EACCES, "wrong join token");
	vdc_model_flush();
	vdc_model_unlock();
	if (rc < 0) {
		char what[VDC_NAME_MAX + 32];
		unsigned status = rc == -EACCES ? MHD_HTTP_FORBIDDEN :
				  rc == -EEXIST ? MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR;

		snprintf(what, sizeof(what), "a join of host %s", j.name);
		if (!ok)
			return refuse_stranger(c, status, what, err.msg);
		return refuse(c, status, what, err.msg);
	}
	conn_authenticated(c);
	return reply(c, MHD_HTTP_OK, vdc_wire_joined(j.name, host_token));
}

/* ---- a joined host's requests ---- */

static const char *bearer(struct MHD_Connection *c)
{
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	if (!a || strncmp(a, "Bearer ", 7))
		return NULL;
	return a + 7;
}

/*
 * The host a request may act for. On success the model's read lock is
 * held; the caller lets go of it (or trades it for the write lock).
 * -EACCES for a stranger (no token, or nobody's), -EPERM for a joined
 * host that gave its own token for another host's request.
 */
static int authorize(struct MHD_Connection *c, const char *name, struct vdc_obj **host,
		     struct vdc_err *err)
{
	const char *token = bearer(c);
	int rc = -EACCES;

	if (!token)
		return vdc_err_set(err, -EACCES, "no token was given for host %s", VDC_Q(name));
	vdc_model_rdlock();
	if (vdc_host_auth(name, token, host, err) < 0) {
		if (*host)
			rc = -EPERM;
		vdc_model_unlock();
		return rc;
	}
	return 0;
}

/*
 * Refuse a request that failed authorize() with `rc`: a stranger's is
 * counted, a joined host's forgery is logged every time (403 either way).
 */
static enum MHD_Result refuse_auth(struct MHD_Connection *c, int rc, const char *what, const char *why)
{
	if (rc == -EPERM)
		return refuse(c, MHD_HTTP_FORBIDDEN, what, why);
	return refuse_stranger(c, MHD_HTTP_FORBIDDEN, what, why);
}

/* A number of the query; a malformed one is `def`, as an agent of an older protocol may send anything. */
static uint64_t arg_u64(struct MHD_Connection *c, const char *name, uint64_t def)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	uint64_t n;

	if (vdc_doc_query_u64(v, name, 0, UINT64_MAX - 1, def, &n, NULL) < 0)
		return def;
	return n;
}

/* Has CLOCK_MONOTONIC reached `deadline`? */
static bool past(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* When a long poll answers at the latest: its `wait` argument, at most POLL_MAX seconds, from now. */
static void poll_deadline(struct MHD_Connection *c, struct timespec *deadline)
{
	uint64_t wait = arg_u64(c, "wait", POLL_DEFAULT);

	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += (time_t)(wait > POLL_MAX ? POLL_MAX : wait);
}

static enum MHD_Result serve_desired(struct MHD_Connection *c, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *host;
	uint64_t rev = arg_u64(c, "rev", 0), seen;
	struct timespec deadline;
	char *j;
	int rc;

	poll_deadline(c, &deadline);
	for (;;) {
		seen = vdc_hosts_bumps();
		if ((rc = authorize(c, name, &host, &err)) < 0)
			return refuse_auth(c, rc, "a desired-state request", err.msg);
		if (vdc_host_of(host)->rev > rev || rev == 0 || stopping) {
			j = vdc_wire_desired(host, vdc_image_sum);
			vdc_model_unlock();
			vdc_count(VDC_C_AGENT_POLLS);
			return reply(c, MHD_HTTP_OK, j);
		}
		vdc_model_unlock();
		if (past(&deadline)) {
			rev = 0;   /* answer with what there is */
			continue;
		}
		vdc_hosts_wait(seen, &deadline);
	}
}

static void persist_fact(struct vdc_obj *host, const char *name, const char *value)
{
	struct vdc_err err = VDC_ERR_INIT;

	if (vdc_obj_live_put(host, name, value, &err) < 0)
		vdc_event(host, "warning: %s", err.msg);
}

/* A reported fact of `host` in bytes: kept in *field and persisted when it changed. */
static void fact_bytes(struct vdc_obj *host, const char *name, uint64_t *field, uint64_t value)
{
	char num[32];

	if (*field == value)
		return;
	*field = value;
	snprintf(num, sizeof(num), "%" PRIu64, value);
	persist_fact(host, name, num);
}

/* The same for a text fact held in `field` (n bytes); true when it changed. */
static bool fact_text(struct vdc_obj *host, const char *name, char *field, size_t n, const char *value)
{
	if (!strcmp(field, value))
		return false;
	snprintf(field, n, "%s", value);
	persist_fact(host, name, value);
	return true;
}

/*
 * A hypervisor's libvirtd certificate, issued by the data center's CA for
 * the address it reports (its underlay, which migrating peers dial): made
 * at its first report and again when the address changes; persisted.
 */
static void host_pki(struct vdc_obj *host)
{
	struct vdc_host *h = vdc_host_of(host);
	struct vdc_err err = VDC_ERR_INIT;
	char *cert = NULL, *key = NULL;

	if (!h->underlay[0] || !ca.cert_pem || (h->pki_cert && !strcmp(h->pki_ip, h->underlay)))
		return;
	if (vdc_tls_issue(&ca, host->name, h->underlay, &cert, &key, &err) < 0) {
		vdc_event(host, "warning: %s", err.msg);
		return;
	}
	persist_fact(host, "pki-key", key);
	persist_fact(host, "pki-cert", cert);
	persist_fact(host, "pki-ip", h->underlay);
	free(h->pki_cert);
	free(h->pki_key);
	h->pki_cert = cert;
	h->pki_key = key;
	snprintf(h->pki_ip, sizeof(h->pki_ip), "%s", h->underlay);
	vdc_event(host, "certificate for its libvirtd issued (%s)", h->underlay);
	vdc_host_bump(host);
}

/* Is (epoch, seq) newer than the host's last accepted report? Then it is the last one. */
static bool report_is_new(struct vdc_host *h, int64_t epoch, int64_t seq)
{
	if (!(epoch > h->epoch || (epoch == h->epoch && seq > h->seq)))
		return false;
	h->epoch = epoch;
	h->seq = seq;
	return true;
}

/* A refused report: logged with the host's name (it is known by its token) and answered 400. */
static enum MHD_Result refuse_report(struct MHD_Connection *c, const char *name, const char *why)
{
	char what[VDC_NAME_MAX + 32];

	snprintf(what, sizeof(what), "a report of host %s", name);
	return refuse(c, MHD_HTTP_BAD_REQUEST, what, why);
}

/* A storage host's report (docs/storage.md); the caller has authorized it. */
static enum MHD_Result serve_sta_report(struct MHD_Connection *c, const char *name, const struct request *rq)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_sta_report r;
	struct vdc_obj *host;

	if (vdc_doc_sta_report_parse(rq->body.buf, rq->body.len, &r, &err) < 0)
		return refuse_report(c, name, err.msg);
	vdc_model_wrlock();
	host = vdc_host_find(name);
	if (host && report_is_new(vdc_host_of(host), r.epoch, r.seq)) {
		struct vdc_host *h = vdc_host_of(host);
		char d[sizeof(h->driver)];

		snprintf(d, sizeof(d), "%s, vdc-sta %s", r.driver, r.version);
		fact_bytes(host, "disk", &h->disk, r.disk_mib << 20);
		fact_text(host, "driver", h->driver, sizeof(h->driver), d);
		fact_text(host, "portal", h->portal, sizeof(h->portal), r.portal);
		vdc_host_report_sta(host, r.vols, r.n);
	}
	vdc_model_flush();
	vdc_model_unlock();
	vdc_doc_sta_report_release(&r);
	vdc_count(VDC_C_AGENT_REPORTS);
	return reply(c, MHD_HTTP_OK, vdc_wire_ok());
}

/* The report's instances as host.c takes them: pointers into `r`, and one list of volumes. */
static struct vdc_report_inst *report_insts(const struct vdc_doc_hva_report *r, struct vdc_seen_vol **vols_out)
{
	struct vdc_report_inst *list = xcalloc(r->n ? r->n : 1, sizeof(*list));
	struct vdc_seen_vol *vols;
	size_t i, nv = 0, at = 0;
	unsigned k;

	for (i = 0; i < r->n; i++)
		nv += r->insts[i].nvols;
	vols = xcalloc(nv ? nv : 1, sizeof(*vols));
	for (i = 0; i < r->n; i++) {
		const struct vdc_doc_inst *in = &r->insts[i];

		list[i].id = in->id;
		list[i].state = in->state;
		list[i].err = in->err;
		list[i].ip = in->ip;
		list[i].reboot = in->reboot;
		list[i].reset = in->reset;
		list[i].migrated = in->migrated;
		list[i].progress = in->progress;
		list[i].usage = (struct vdc_usage){
			.cpu = in->usage.cpu, .cpu_time_ns = in->usage.cpu_time_ns,
			.memory_kib = in->usage.memory_kib, .disk_read = in->usage.disk_read,
			.disk_written = in->usage.disk_written, .net_received = in->usage.net_received,
			.net_sent = in->usage.net_sent, .uptime = in->usage.uptime,
		};
		list[i].vols = in->nvols ? &vols[at] : NULL;
		list[i].nvols = in->nvols;
		for (k = 0; k < in->nvols; k++, at++) {
			vols[at].id = in->vols[k].id;
			snprintf(vols[at].state, sizeof(vols[at].state), "%s", in->vols[k].state);
			vols[at].err = (char *)in->vols[k].err;   /* borrowed; vdc_host_report copies */
		}
	}
	*vols_out = vols;
	return list;
}

static enum MHD_Result serve_report(struct MHD_Connection *c, const char *name, const struct request *rq)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_hva_report r;
	struct vdc_report_inst *list;
	struct vdc_seen_vol *vols;
	struct vdc_obj *host;
	struct vdc_host *h;
	bool sta;
	int rc;

	/* The headers were authenticated before the body was read; the host may have gone since. */
	if ((rc = authorize(c, name, &host, &err)) < 0)
		return refuse_auth(c, rc, "a report", err.msg);
	sta = vdc_host_of(host)->role == VDC_ROLE_STA;
	vdc_model_unlock();
	if (sta)
		return serve_sta_report(c, name, rq);
	if (vdc_doc_hva_report_parse(rq->body.buf, rq->body.len, &r, &err) < 0)
		return refuse_report(c, name, err.msg);
	list = report_insts(&r, &vols);
	vdc_model_wrlock();
	host = vdc_host_find(name);   /* it may have gone between the locks */
	if (host) {
		h = vdc_host_of(host);
		if (report_is_new(h, r.epoch, r.seq)) {
			char d[sizeof(h->driver)], num[32];

			snprintf(d, sizeof(d), "%s %s, libvirt %s, vdc-hva %s", r.driver, r.virt, r.libvirt, r.version);
			if (h->cpus != r.cpus) {
				h->cpus = r.cpus;
				snprintf(num, sizeof(num), "%u", h->cpus);
				persist_fact(host, "cpus", num);
			}
			fact_bytes(host, "memory", &h->memory, r.memory_mib << 20);
			fact_text(host, "driver", h->driver, sizeof(h->driver), d);
			if (fact_text(host, "underlay", h->underlay, sizeof(h->underlay), r.underlay))
				vdc_network_touched();
			host_pki(host);
			vdc_host_set_usage(host, r.cpu, r.load);
			vdc_host_report(host, list, r.n);
		}
	}
	vdc_model_flush();
	vdc_model_unlock();
	free(vols);
	free(list);
	vdc_doc_hva_report_release(&r);
	vdc_count(VDC_C_AGENT_REPORTS);
	return reply(c, MHD_HTTP_OK, vdc_wire_ok());
}

static enum MHD_Result serve_console(struct MHD_Connection *c, const char *name, const char *idtext,
				     const struct request *rq)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *host, *inst;
	uint64_t id, offset = arg_u64(c, "offset", 0), have = 0;
	bool mine;
	int rc;

	if (vdc_uint_parse(idtext, strlen(idtext), "the instance id", 1, INT64_MAX, &id, &err) < 0)
		return reply_error(c, MHD_HTTP_BAD_REQUEST, err.msg);
	if ((rc = authorize(c, name, &host, &err)) < 0)
		return refuse_auth(c, rc, "console output", err.msg);
	vdc_model_unlock();
	vdc_model_wrlock();
	inst = vdc_obj_by_id((int64_t)id);
	mine = inst && inst->kind == vdc_kind(VDC_KIND_INSTANCES) && !strcmp(vdc_place_of(inst)->host, name);
	if (mine) {
		have = vdc_console_append(inst, offset, rq->body.buf, rq->body.len);
		if (rq->body.len)
			vdc_obj_live_changed(inst);
	}
	vdc_model_flush();
	vdc_model_unlock();
	if (!mine)
		return reply_error(c, MHD_HTTP_NOT_FOUND, "no instance of that id is placed on this host");
	return reply(c, MHD_HTTP_OK, vdc_wire_have(have));
}

/*
 * Console input for the guests of a hypervisor (a long-poll, as the
 * desired state's): answers with what was written to the consoles of its
 * instances, taken out of their queues, as soon as there is any, or with
 * none after `wait` seconds. What an answer carries is gone from vdcfs:
 * an answer lost on the way loses those keystrokes, as a serial line
 * would.
 */
static enum MHD_Result serve_console_input(struct MHD_Connection *c, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_console_input *list;
	struct vdc_obj *host;
	uint64_t seen;
	struct timespec deadline;
	size_t n, i;
	char *j;
	int rc;

	poll_deadline(c, &deadline);
	for (;;) {
		seen = vdc_console_input_pushes();
		if ((rc = authorize(c, name, &host, &err)) < 0)
			return refuse_auth(c, rc, "a console input request", err.msg);
		vdc_model_unlock();
		vdc_model_wrlock();
		host = vdc_host_find(name);   /* it may have gone between the locks */
		list = host ? vdc_console_input_take(host, &n) : (n = 0, NULL);
		vdc_model_unlock();
		if (n || !host || stopping || past(&deadline)) {
			j = vdc_wire_console_input(list, n);
			for (i = 0; i < n; i++)
				free(list[i].buf);
			free(list);
			return reply(c, MHD_HTTP_OK, j);
		}
		vdc_console_input_wait(seen, &deadline);
	}
}

static enum MHD_Result serve_image(struct MHD_Connection *c, const char *name, const char *image)
{
	__do_strbuf struct strbuf path = STRBUF_INIT;
	struct vdc_err err = VDC_ERR_INIT;
	struct MHD_Response *r;
	struct vdc_obj *host, *img;
	char sum[65];
	off_t size;
	bool qcow2, known = false;
	struct stat st;
	enum MHD_Result ret;
	int fd, rc;

	if ((rc = authorize(c, name, &host, &err)) < 0)
		return refuse_auth(c, rc, "an image download", err.msg);
	img = vdc_obj_find(vdc_kind(VDC_KIND_IMAGES), NULL, image, strlen(image));
	if (img) {
		known = vdc_image_sum(img, sum, &size, &qcow2);
		vdc_obj_data_path(img, &path);
	}
	vdc_model_unlock();
	if (!img)
		return reply_error(c, MHD_HTTP_NOT_FOUND, "no such image");
	if (!known)
		return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the image's checksum is being computed; fetch it once the desired state names it");
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return reply_error(c, MHD_HTTP_NOT_FOUND, "the image has no data");
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	MHD_add_response_header(r, "X-Vdc-Sha256", sum);
	MHD_add_response_header(r, "Content-Type", "application/octet-stream");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- routing ---- */

/*
 * What the request is, from its method and path, and how many bytes of
 * body it may bring: a join VDC_DOC_JOIN_BYTES_MAX, a report
 * VDC_DOC_REPORT_BYTES_MAX (the largest report of the largest host,
 * agent_doc.h), console output VDC_CONSOLE_MAX, the rest none.
 */
static enum route_kind route_of(const char *url, const char *method, struct request *rq)
{
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	const char *rest;

	if (!strcmp(url, "/v1/join")) {
		rq->limit = VDC_DOC_JOIN_BYTES_MAX;
		return post ? R_JOIN : R_NONE;
	}
	if (vdc_doc_host_path(url, rq->name, &rest, NULL) < 0)
		return R_NONE;
	rq->rest = rest;
	if (get && !strcmp(rest, "desired"))
		return R_DESIRED;
	if (post && !strcmp(rest, "report")) {
		rq->limit = VDC_DOC_REPORT_BYTES_MAX;
		return R_REPORT;
	}
	if (post && !strncmp(rest, "console/", 8)) {
		rq->limit = VDC_CONSOLE_MAX;
		return R_CONSOLE;
	}
	if (get && !strcmp(rest, "console-input"))
		return R_CONSOLE_INPUT;
	if (get && !strncmp(rest, "images/", 7) && !strchr(rest + 7, '/'))
		return R_IMAGE;
	return R_NONE;
}

/* What a request is called in run/events. */
static const char *what_of(enum route_kind k)
{
	switch (k) {
	case R_JOIN: return "a join";
	case R_DESIRED: return "a desired-state request";
	case R_REPORT: return "a report";
	case R_CONSOLE: return "console output";
	case R_CONSOLE_INPUT: return "a console input request";
	case R_IMAGE: return "an image download";
	case R_NONE: break;
	}
	return "a request";
}

/* The body the headers announce is larger than `limit`? (A chunked one is counted as it comes.) */
static bool announced_too_big(struct MHD_Connection *c, size_t limit)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t n;

	return cl && (vdc_uint_parse(cl, strlen(cl), "Content-Length", 0, UINT64_MAX, &n, NULL) < 0 || n > limit);
}

/*
 * The headers of a request are in, its body not yet read: route it, and
 * for a joined host's request check the token now. A refusal is queued at
 * once (MHD then closes the connection without reading the body).
 */
static enum MHD_Result begin(struct MHD_Connection *c, const char *url, const char *method, struct request *rq)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *host;
	char why[96];

	rq->kind = route_of(url, method, rq);
	if (rq->kind == R_NONE) {
		rq->answered = true;
		return refuse_stranger(c, MHD_HTTP_NOT_FOUND, "a request", "no such request; see docs/agent-protocol.md");
	}
	if (rq->kind != R_JOIN) {
		int rc = authorize(c, rq->name, &host, &err);

		if (rc < 0) {
			rq->answered = true;
			return refuse_auth(c, rc, what_of(rq->kind), err.msg);
		}
		vdc_model_unlock();
		conn_authenticated(c);
	}
	if (announced_too_big(c, rq->limit)) {
		rq->answered = true;
		snprintf(why, sizeof(why), "the body is larger than %zu bytes", rq->limit);
		if (rq->kind == R_JOIN)
			return refuse_stranger(c, MHD_HTTP_CONTENT_TOO_LARGE, "a join", why);
		return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, why);
	}
	return MHD_YES;
}

static enum MHD_Result route(struct MHD_Connection *c, const struct request *rq)
{
	switch (rq->kind) {
	case R_JOIN:
		return serve_join(c, rq);
	case R_DESIRED:
		return serve_desired(c, rq->name);
	case R_REPORT:
		return serve_report(c, rq->name, rq);
	case R_CONSOLE:
		return serve_console(c, rq->name, rq->rest + 8, rq);
	case R_CONSOLE_INPUT:
		return serve_console_input(c, rq->name);
	case R_IMAGE:
		return serve_image(c, rq->name, rq->rest + 7);
	case R_NONE:
		break;
	}
	return reply_error(c, MHD_HTTP_NOT_FOUND, "no such request; see docs/agent-protocol.md");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **ctx)
{
	struct request *rq = *ctx;

	(void)cls;
	(void)version;
	if (!rq) {
		rq = xcalloc(1, sizeof(*rq));
		strbuf_init(&rq->body, 0);
		*ctx = rq;
		return begin(c, url, method, rq);
	}
	if (rq->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		/*
		 * A body without a Content-Length (chunked) that grows past
		 * its limit: MHD cannot answer in the middle of a body, so the
		 * connection is closed.
		 */
		if (rq->body.len + *upload_size > rq->limit) {
			if (rq->kind == R_JOIN)
				stranger_refused(client_ip(c), "a join", "the body is too large", false);
			return MHD_NO;
		}
		strbuf_add(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return route(c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode t)
{
	struct request *rq = *ctx;

	(void)cls;
	(void)c;
	(void)t;
	if (rq) {
		strbuf_release(&rq->body);
		free(rq);
		*ctx = NULL;
	}
}

/* Heartbeats are checked once a second. */
static void *tick(void *arg)
{
	(void)arg;
	while (!stopping) {
		sleep(1);
		vdc_model_wrlock();
		refusals_tick();
		vdc_hosts_tick();
		vdc_model_flush();
		vdc_model_unlock();
	}
	return NULL;
}

int vdc_agentd_start(struct vdc_err *err)
{
	int rc;

	vdc_model_wrlock();
	rc = ensure_secrets(err);
	vdc_model_unlock();
	if (rc < 0)
		return rc;
	daemon_ = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS,
				   0, on_accept, NULL, on_request, NULL,
				   MHD_OPTION_LISTEN_SOCKET, listen_fd,
				   MHD_OPTION_HTTPS_MEM_KEY, tls.key_pem,
				   MHD_OPTION_HTTPS_MEM_CERT, tls.cert_pem,
				   MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				   MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
				   MHD_OPTION_CONNECTION_TIMEOUT, UNAUTH_TIMEOUT,
				   MHD_OPTION_CONNECTION_LIMIT, CONN_MAX,
				   MHD_OPTION_END);
	if (!daemon_)
		return vdc_err_set(err, -EIO, "cannot start the agent server on %s", advertise);
	if (pthread_create(&ticker, NULL, tick, NULL) == 0)
		ticker_running = true;
	return 0;
}

void vdc_agentd_stop(void)
{
	stopping = true;
	if (daemon_) {
		vdc_model_wrlock();
		vdc_host_bump(NULL);   /* wakes every long-poll */
		vdc_model_unlock();
		vdc_console_input_wake();
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
		listen_fd = -1;   /* MHD closed it */
	} else if (listen_fd >= 0) {
		close(listen_fd);
		listen_fd = -1;
	}
	if (ticker_running)
		pthread_join(ticker, NULL);
	ticker_running = false;
	vdc_tls_release(&tls);
	vdc_wire_pki_ca(NULL);
	vdc_tls_release(&ca);
	vdc_image_sums_stop();
	memset(refusals, 0, sizeof(refusals));
	strbuf_release(&refusals_pending);
	refusals_first_lines = refusals_sum_lines = 0;
	overflow_count = overflow_addrs = 0;
}
