/*
 * Hosts (host.h): joining and tokens, the revision of each host's desired
 * state and the long-poll on it, what agents last reported and the
 * heartbeat that turns a silent host unknown. The lowest of the kinds:
 * it calls the model and nothing else (docs/HACKING.md, "Layers").
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

static unsigned host_timeout = 15;    /* seconds of silence before unknown */
static unsigned heartbeat = 5;        /* seconds between reports, asked of agents */

/*
 * Long-poll: agents wait for the bump counter to move. The mutex is only
 * ever taken after the model lock, never the other way round.
 */
static pthread_mutex_t bump_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bump_cond;
static bool bump_cond_ready;
static uint64_t bumps;
static uint64_t last_rev;    /* revisions start at the wall clock, in µs */

void vdc_hosts_configure(unsigned host_timeout_s, unsigned heartbeat_s)
{
	host_timeout = host_timeout_s;
	heartbeat = heartbeat_s;
}

unsigned vdc_hosts_heartbeat(void)
{
	return heartbeat;
}

const struct vdc_kind *vdc_hosts_kind(void)
{
	return vdc_kind(VDC_KIND_HOSTS);
}

static const char *const host_states[VDC_HSTATE_COUNT] = {
	[VDC_HSTATE_JOINED] = "joined",
	[VDC_HSTATE_UP] = "up",
	[VDC_HSTATE_UNKNOWN] = "unknown",
};

bool vdc_host_in(const struct vdc_obj *host, enum vdc_host_state s)
{
	return !strcmp(host->state, host_states[s]);
}

static void host_set_state(struct vdc_obj *host, enum vdc_host_state s)
{
	vdc_obj_set_state(host, host_states[s]);
}

struct vdc_obj *vdc_host_find(const char *name)
{
	const struct vdc_kind *k = vdc_hosts_kind();

	return k ? vdc_obj_find(k, NULL, name, strlen(name)) : NULL;
}

static uint64_t next_rev(void)
{
	struct timespec t;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &t);
	now = (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
	last_rev = now > last_rev ? now : last_rev + 1;
	return last_rev;
}

struct vdc_host *vdc_host_of(struct vdc_obj *host)
{
	struct vdc_host *h = host->priv;

	if (!h) {
		h = xcalloc(1, sizeof(*h));
		vdc_imap_init(&h->seen);
		clock_gettime(CLOCK_MONOTONIC, &h->last_seen);
		h->rev = next_rev();
		h->cpu_busy = h->load[0] = h->load[1] = h->load[2] = -1;
		host->priv = h;
	}
	return h;
}

static void seen_free(struct vdc_seen *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->nvols; i++)
		free(s->vols[i].err);
	free(s->vols);
	free(s->err);
	free(s->progress);
	free(s);
}

static void seen_clear(struct vdc_host *h)
{
	size_t i;

	for (i = 0; i < h->seen.cap; i++)
		if (h->seen.keys[i] && h->seen.keys[i] != UINT64_MAX)
			seen_free(h->seen.values[i]);
	vdc_imap_clear(&h->seen);
	vdc_imap_init(&h->seen);
}

void vdc_host_release(struct vdc_obj *host)
{
	struct vdc_host *h = host->priv;

	if (!h)
		return;
	seen_clear(h);
	vdc_imap_clear(&h->seen);
	free(h->pki_cert);
	free(h->pki_key);
	free(h);
}

/* ---- tokens ---- */

void vdc_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

static void token_digest(const char *token, char *out)
{
	unsigned char d[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), d);
	vdc_hex(d, sizeof(d), out);
}

/* Compare in time independent of where the strings differ. */
bool vdc_secret_equal(const char *a, const char *b)
{
	size_t i, la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;

	for (i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return !diff;
}

int vdc_host_join(const char *name, enum vdc_host_role role, char *token_hex, struct vdc_err *err)
{
	unsigned char raw[32];
	struct vdc_obj *host;
	struct vdc_host *h;
	char digest[65];
	int rc;

	if (vdc_host_find(name))
		return vdc_err_set(err, -EEXIST, "a host named %s has joined before; rmdir hosts/%s first to join it again",
				   name, name);
	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw)) < 0)
		return vdc_err_set(err, -EIO, "no random bytes for a host token");
	vdc_hex(raw, sizeof(raw), token_hex);
	token_digest(token_hex, digest);
	rc = vdc_obj_create(vdc_hosts_kind(), NULL, name, strlen(name), 0, 0, &host, err);
	if (rc < 0)
		return rc;
	rc = vdc_obj_live_put(host, "token", digest, err);
	if (rc == 0 && role == VDC_ROLE_STA)
		rc = vdc_obj_live_put(host, "role", "sta", err);
	if (rc < 0) {
		struct vdc_err ignored = VDC_ERR_INIT;

		vdc_obj_destroy(host, &ignored);
		return rc;
	}
	h = vdc_host_of(host);
	memcpy(h->token_sha, digest, sizeof(digest));
	h->role = role;
	vdc_event(host, role == VDC_ROLE_STA ? "joined as a storage host" : "joined");
	return 0;
}

int vdc_host_auth(const char *name, const char *token, struct vdc_obj **out, struct vdc_err *err)
{
	const struct vdc_kind *k = vdc_hosts_kind();
	const struct vdc_map *all = vdc_kind_objects(k);
	struct vdc_obj *host = vdc_host_find(name);
	struct vdc_map_entry *e;
	char digest[65];
	size_t b;

	token_digest(token, digest);
	if (host && vdc_secret_equal(vdc_host_of(host)->token_sha, digest)) {
		*out = host;
		return 0;
	}
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *o = e->value;

		if (vdc_secret_equal(vdc_host_of(o)->token_sha, digest)) {
			*out = o;
			return vdc_err_set(err, -EACCES, "the token of host %s was used for host %s", o->name,
					   VDC_Q(name));
		}
	}
	*out = NULL;
	if (!host)
		return vdc_err_set(err, -EACCES, "no host %s has joined", VDC_Q(name));
	return vdc_err_set(err, -EACCES, "a wrong token was given for host %s", name);
}

/* ---- revisions and long-poll ---- */

static void bump_init(void)
{
	pthread_condattr_t a;

	if (bump_cond_ready)
		return;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&bump_cond, &a);
	pthread_condattr_destroy(&a);
	bump_cond_ready = true;
}

void vdc_host_bump(struct vdc_obj *host)
{
	const struct vdc_kind *k = vdc_hosts_kind();
	struct vdc_map_entry *e;
	size_t b;

	if (host) {
		vdc_host_of(host)->rev = next_rev();
	} else if (k) {
		for (e = vdc_map_first(vdc_kind_objects(k), &b); e; e = vdc_map_next(vdc_kind_objects(k), e, &b))
			vdc_host_of(e->value)->rev = next_rev();
	}
	pthread_mutex_lock(&bump_lock);
	bump_init();
	bumps++;
	pthread_cond_broadcast(&bump_cond);
	pthread_mutex_unlock(&bump_lock);
}

uint64_t vdc_hosts_bumps(void)
{
	uint64_t n;

	pthread_mutex_lock(&bump_lock);
	n = bumps;
	pthread_mutex_unlock(&bump_lock);
	return n;
}

void vdc_hosts_wait(uint64_t seen, const struct timespec *deadline)
{
	pthread_mutex_lock(&bump_lock);
	bump_init();
	while (bumps == seen) {
		if (pthread_cond_timedwait(&bump_cond, &bump_lock, deadline))
			break;
	}
	pthread_mutex_unlock(&bump_lock);
}

/* ---- capacity ---- */

void vdc_host_use(const struct vdc_obj *host, unsigned *cpus, uint64_t *memory)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);

	*cpus = h->cpus_used;
	*memory = h->memory_used;
}

bool vdc_host_schedulable(const struct vdc_obj *host)
{
	size_t len;
	const char *v = vdc_attr_value(host, VDC_HOST_SCHEDULABLE, &len);

	return len == 2 && !memcmp(v, "on", 2);
}

/* ---- reports and heartbeats ---- */

/* How many volumes the host's instances hold, as last reported. */
unsigned vdc_host_seen_volumes(const struct vdc_host *h)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < h->seen.cap; i++)
		if (h->seen.keys[i] && h->seen.keys[i] != UINT64_MAX)
			n += ((const struct vdc_seen *)h->seen.values[i])->nvols;
	return n;
}

void vdc_host_record(struct vdc_obj *host, const struct vdc_report_inst *insts, size_t n)
{
	struct vdc_host *h = vdc_host_of(host);
	size_t i;

	seen_clear(h);
	for (i = 0; i < n; i++) {
		struct vdc_seen *s = xcalloc(1, sizeof(*s));

		s->id = insts[i].id;
		snprintf(s->state, sizeof(s->state), "%s", insts[i].state ? insts[i].state : "");
		s->err = insts[i].err && *insts[i].err ? xstrdup(insts[i].err) : NULL;
		snprintf(s->ip, sizeof(s->ip), "%s", insts[i].ip ? insts[i].ip : "");
		s->reboot = insts[i].reboot;
		s->reset = insts[i].reset;
		s->migrated = insts[i].migrated;
		s->progress = insts[i].progress && *insts[i].progress ? xstrdup(insts[i].progress) : NULL;
		s->usage = insts[i].usage;
		if (insts[i].nvols) {
			unsigned v;

			s->vols = xcalloc(insts[i].nvols, sizeof(*s->vols));
			s->nvols = insts[i].nvols;
			for (v = 0; v < s->nvols; v++) {
				s->vols[v].id = insts[i].vols[v].id;
				snprintf(s->vols[v].state, sizeof(s->vols[v].state), "%s", insts[i].vols[v].state);
				s->vols[v].err = insts[i].vols[v].err && *insts[i].vols[v].err ?
						 xstrdup(insts[i].vols[v].err) : NULL;
			}
		}
		seen_free(vdc_imap_get(&h->seen, (uint64_t)s->id));
		vdc_imap_put(&h->seen, (uint64_t)s->id, s);
	}
	clock_gettime(CLOCK_MONOTONIC, &h->last_seen);
	h->reported = true;
	host->live_mtime = vdc_now();
	if (!vdc_host_in(host, VDC_HSTATE_UP)) {
		host_set_state(host, VDC_HSTATE_UP);
		vdc_obj_set_err(host, NULL);
	}
}

void vdc_host_set_usage(struct vdc_obj *host, int64_t cpu, const int64_t load[3])
{
	struct vdc_host *h = vdc_host_of(host);

	h->cpu_busy = cpu;
	memcpy(h->load, load, sizeof(h->load));
}

bool vdc_host_silenced(struct vdc_obj *o, const struct timespec *now)
{
	struct vdc_host *h = vdc_host_of(o);

	if (vdc_host_in(o, VDC_HSTATE_UNKNOWN) || now->tv_sec - h->last_seen.tv_sec < (time_t)host_timeout)
		return false;
	if (vdc_host_in(o, VDC_HSTATE_JOINED) && !h->reported)
		return false;   /* never reported: nothing of it can be unknown */
	h->reported = false;
	h->cpu_busy = h->load[0] = h->load[1] = h->load[2] = -1;
	host_set_state(o, VDC_HSTATE_UNKNOWN);
	vdc_obj_set_err(o, h->role == VDC_ROLE_STA ?
			"no report for more than the host timeout; its volumes are unknown until it reports again" :
			"no report for more than the host timeout; its instances are unknown until it reports again");
	return true;
}

/* ---- what the tree shows ---- */

static void show_mib(struct strbuf *out, uint64_t bytes)
{
	strbuf_addf(out, "%" PRIu64 "M\n", bytes >> 20);
}

void vdc_host_show_cpus(const struct vdc_obj *host, struct strbuf *out)
{
	strbuf_addf(out, "%u\n", vdc_host_of((struct vdc_obj *)host)->cpus);
}

void vdc_host_show_memory(const struct vdc_obj *host, struct strbuf *out)
{
	show_mib(out, vdc_host_of((struct vdc_obj *)host)->memory);
}

void vdc_host_show_cpus_used(const struct vdc_obj *host, struct strbuf *out)
{
	unsigned c;
	uint64_t m;

	vdc_host_use(host, &c, &m);
	strbuf_addf(out, "%u\n", c);
}

void vdc_host_show_memory_used(const struct vdc_obj *host, struct strbuf *out)
{
	unsigned c;
	uint64_t m;

	vdc_host_use(host, &c, &m);
	show_mib(out, m);
}

void vdc_host_show_driver(const struct vdc_obj *host, struct strbuf *out)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);

	if (h->driver[0])
		strbuf_addf(out, "%s\n", h->driver);
}

void vdc_host_show_underlay(const struct vdc_obj *host, struct strbuf *out)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);

	if (h->underlay[0])
		strbuf_addf(out, "%s\n", h->underlay);
}

/* ---- the hosts kind's hooks ---- */

int vdc_host_busy(const struct vdc_obj *host, struct vdc_err *err)
{
	unsigned n = host->rel[VDC_HOST_INSTANCES].n, nv = host->rel[VDC_HOST_VOLUMES].n;

	if (nv && !vdc_host_in(host, VDC_HSTATE_UNKNOWN))
		return vdc_err_set(err, -EBUSY, "storage host %s holds %u volume%s; remove them first", host->name, nv,
				   nv == 1 ? "" : "s");
	if (vdc_host_in(host, VDC_HSTATE_UNKNOWN))
		return 0;
	/* With none placed, what it has reserved is for instances migrating here live (place.h). */
	if (!n && vdc_host_of((struct vdc_obj *)host)->cpus_used)
		return vdc_err_set(err, -EBUSY, "an instance is migrating live to host %s; wait until it is there, then evacuate",
				   host->name);
	if (!n)
		return 0;
	return vdc_err_set(err, -EBUSY, "host %s holds %u instance%s; echo evacuate > hosts/%s/ctl and wait for it to empty first",
			   host->name, n, n == 1 ? "" : "s", host->name);
}

void vdc_host_live_loaded(struct vdc_obj *host, const char *name, const char *value)
{
	struct vdc_host *h = vdc_host_of(host);

	if (!strcmp(name, "token"))
		snprintf(h->token_sha, sizeof(h->token_sha), "%s", value);
	else if (!strcmp(name, "cpus"))
		h->cpus = (unsigned)strtoul(value, NULL, 10);
	else if (!strcmp(name, "memory"))
		h->memory = strtoull(value, NULL, 10);
	else if (!strcmp(name, "driver"))
		snprintf(h->driver, sizeof(h->driver), "%s", value);
	else if (!strcmp(name, "role"))
		h->role = strcmp(value, "sta") ? VDC_ROLE_HVA : VDC_ROLE_STA;
	else if (!strcmp(name, "disk"))
		h->disk = strtoull(value, NULL, 10);
	else if (!strcmp(name, "portal"))
		snprintf(h->portal, sizeof(h->portal), "%s", value);
	else if (!strcmp(name, "underlay"))
		snprintf(h->underlay, sizeof(h->underlay), "%s", value);
	else if (!strcmp(name, "pki-cert"))
		free(h->pki_cert), h->pki_cert = xstrdup(value);
	else if (!strcmp(name, "pki-key"))
		free(h->pki_key), h->pki_key = xstrdup(value);
	else if (!strcmp(name, "pki-ip"))
		snprintf(h->pki_ip, sizeof(h->pki_ip), "%s", value);
}

bool vdc_host_is_up(const struct vdc_obj *host)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);

	return h->reported && vdc_host_in(host, VDC_HSTATE_UP);
}
