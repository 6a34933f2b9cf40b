#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "network.h"

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
	return vdc_kind_find("hosts", 5);
}

struct vdc_obj *vdc_host_find(const char *name)
{
	const struct vdc_kind *k = vdc_hosts_kind();

	return k ? vdc_obj_find(k, NULL, name, strlen(name)) : NULL;
}

static int attr_index(const struct vdc_obj *obj, const char *name)
{
	return vdc_attr_index(obj->kind, name, strlen(name));
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
		host->priv = h;
	}
	return h;
}

struct vdc_place *vdc_place_of(struct vdc_obj *instance)
{
	if (!instance->priv)
		instance->priv = xcalloc(1, sizeof(struct vdc_place));
	return instance->priv;
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
	free(h);
}

void vdc_place_release(struct vdc_obj *instance)
{
	struct vdc_place *p = instance->priv;

	if (p)
		free(p->console);
	free(p);
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

/* ---- placement ---- */

static void host_recount(struct vdc_obj *host);

static struct vdc_obj *host_of_instance(struct vdc_obj *instance)
{
	struct vdc_place *p = vdc_place_of(instance);

	return p->host[0] ? vdc_host_find(p->host) : NULL;
}

static struct vdc_link *host_link(struct vdc_obj *host, const char *iname)
{
	return vdc_rel_find(host, 0, iname, strlen(iname));
}

/*
 * Add to `set` the networks the nics of `inst` link (by name, whether the
 * network exists yet or not), but `skip`'s, and to `*nics` how many nics
 * link one. The desired state of a host carries the networks that have a
 * cidr; counting every linked one keeps the count from growing behind the
 * check when a cidr is written later.
 */
static void networks_of(const struct vdc_obj *inst, const struct vdc_obj *skip, struct vdc_map *set, size_t *nics)
{
	struct vdc_map_entry *e;
	size_t b;

	for (e = vdc_map_first(&inst->children, &b); e; e = vdc_map_next(&inst->children, e, &b)) {
		const struct vdc_obj *nic = e->value;
		int a = vdc_attr_index(nic->kind, "network", 7);
		const struct vdc_link *l = a >= 0 ? nic->attrs[a].link : NULL;

		if (l && nic != skip) {
			vdc_map_put(set, l->tname, (void *)nic);
			++*nics;
		}
	}
}

/*
 * Into `set`: the networks the desired state of `host` holds, with those
 * of `extra` (an instance about to be placed there, or NULL) counted in
 * and the present link of `nic` (about to be changed, or NULL) out; into
 * `*nics`, the nics on them. The caller clears `set`.
 */
static void host_networks(const struct vdc_obj *host, const struct vdc_obj *extra, const struct vdc_obj *nic,
			  struct vdc_map *set, size_t *nics)
{
	const struct vdc_reldir *r = &host->rel[0];
	unsigned i;

	for (i = 0; i < r->n; i++) {
		struct vdc_obj *inst = vdc_link_target(r->links[i]);

		if (inst && inst != extra && !vdc_place_of(inst)->leaving)
			networks_of(inst, nic, set, nics);
	}
	if (extra)
		networks_of(extra, nic, set, nics);
}

/* A list of names without repeats: the order they came in, and a map to find them. */
struct name_set {
	char (*v)[VDC_NAME_MAX + 1];
	size_t n;
	struct vdc_map map;
};

static void name_set_add(struct name_set *s, const char *name)
{
	if (vdc_map_get(&s->map, name))
		return;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	snprintf(s->v[s->n], sizeof(*s->v), "%s", name);
	vdc_map_put(&s->map, name, s->v);   /* any non-NULL value */
	s->n++;
}

static void instance_groups(const struct vdc_obj *inst, struct name_set *s)
{
	unsigned d, k;

	for (d = 0; d < inst->kind->nreldirs; d++)
		if (!strcmp(inst->kind->reldirs[d].name, "security-groups"))
			for (k = 0; k < inst->rel[d].n; k++)
				name_set_add(s, inst->rel[d].links[k]->tname);
}

/* A group's rules as they are about to be written (for a check before the write). */
struct rules_override {
	const char *group;
	const char *text;
	size_t len;
};

/*
 * How many security groups the desired state of `host` names, with
 * instance `extra` placed there too, group `group` joined and the rules
 * of `over` written (each may be NULL): the groups of its instances and
 * every group their rules name as a peer (sg:NAME), transitively, as
 * vdc_network_desired() sends them. `*has` (when not NULL) says whether
 * `over`'s group is among them. Counting stops past VDC_HOST_GROUPS_MAX.
 */
static size_t host_groups(const struct vdc_obj *host, const struct vdc_obj *extra, const char *group,
			  const struct rules_override *over, bool *has)
{
	const struct vdc_kind *gk = vdc_kind_find("security-groups", 15);
	const struct vdc_reldir *r = &host->rel[0];
	struct vdc_rule *rules = xcalloc(VDC_RULES_MAX, sizeof(*rules));
	struct name_set s = { NULL, 0, { NULL, 0, 0 } };
	size_t g, n;
	unsigned i;

	vdc_map_init(&s.map);
	for (i = 0; i < r->n; i++) {
		struct vdc_obj *inst = vdc_link_target(r->links[i]);

		if (inst && inst != extra && !vdc_place_of(inst)->leaving)
			instance_groups(inst, &s);
	}
	if (extra)
		instance_groups(extra, &s);
	if (group)
		name_set_add(&s, group);
	/* s.n grows as peers are found; stop counting once past the limit. */
	for (g = 0; g < s.n && s.n <= VDC_HOST_GROUPS_MAX; g++) {
		struct vdc_obj *o = gk ? vdc_obj_find(gk, NULL, s.v[g], strlen(s.v[g])) : NULL;
		int a = o ? vdc_attr_index(gk, "rules", 5) : -1;
		size_t len = 0, k;
		const char *text = a >= 0 ? vdc_attr_value(o, (unsigned)a, &len) : "";

		if (over && !strcmp(s.v[g], over->group)) {
			text = over->text;
			len = over->len;
		}
		n = 0;
		if (len && vdc_rules_parse(text, len, rules, &n, NULL) < 0)
			n = 0;
		for (k = 0; k < n; k++)
			if (rules[k].peer_is_group)
				name_set_add(&s, rules[k].peer_group);
	}
	n = s.n;
	if (has)
		*has = over && vdc_map_get(&s.map, over->group);
	vdc_map_clear(&s.map);
	free(s.v);
	free(rules);
	return n;
}

int vdc_place_groups_check(const struct vdc_obj *instance, const char *group, struct vdc_err *err)
{
	struct vdc_place *p = vdc_place_of((struct vdc_obj *)instance);
	struct vdc_obj *host = p->host[0] ? vdc_host_find(p->host) : NULL;
	size_t n;

	if (!host)
		return 0;
	n = host_groups(host, NULL, group, NULL, NULL);
	if (n <= VDC_HOST_GROUPS_MAX)
		return 0;
	return vdc_err_set(err, -ENOSPC,
			   "host %s, where instance %s is placed, would carry more than %d security groups (those of its instances and the groups their rules name); instance %s cannot join group %s there",
			   host->name, instance->name, VDC_HOST_GROUPS_MAX, instance->name, group);
}

int vdc_hosts_rules_check(const struct vdc_obj *group, const char *rules, size_t len, struct vdc_err *err)
{
	const struct vdc_kind *k = vdc_hosts_kind();
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct rules_override over = { group->name, rules, len };
	struct vdc_map_entry *e;
	size_t b;

	for (e = all ? vdc_map_first(all, &b) : NULL; e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *host = e->value;
		bool has = false;

		if (vdc_host_of(host)->role != VDC_ROLE_HVA || !host->rel[0].n)
			continue;
		if (host_groups(host, NULL, NULL, &over, &has) > VDC_HOST_GROUPS_MAX && has)
			return vdc_err_set(err, -ENOSPC,
					   "with these rules host %s would carry more than %d security groups (those of its instances and the groups their rules name); name fewer sg: peers",
					   host->name, VDC_HOST_GROUPS_MAX);
	}
	return 0;
}

int vdc_place_networks_check(const struct vdc_obj *nic, const char *net, struct vdc_err *err)
{
	struct vdc_obj *inst = nic->parent;
	struct vdc_place *p = inst ? vdc_place_of(inst) : NULL;
	struct vdc_obj *host = p && p->host[0] ? vdc_host_find(p->host) : NULL;
	struct vdc_map set;
	size_t n, nics = 0;

	if (!host)
		return 0;
	vdc_map_init(&set);
	host_networks(host, NULL, nic, &set, &nics);
	n = vdc_map_get(&set, net) ? set.count : set.count + 1;
	vdc_map_clear(&set);
	if (nics + 1 > VDC_HOST_NICS_MAX)
		return vdc_err_set(err, -ENOSPC,
				   "host %s, where instance %s is placed, has %zu nics on networks already, the most one host fences (%d); nic %s cannot be on a network there",
				   host->name, inst->name, nics, VDC_HOST_NICS_MAX, nic->name);
	if (n <= VDC_HOST_NETWORKS_MAX)
		return 0;
	return vdc_err_set(err, -ENOSPC,
			   "host %s, where instance %s is placed, carries %zu networks already, the most one host takes (%d); nic %s cannot be on network %s there",
			   host->name, inst->name, n - 1, VDC_HOST_NETWORKS_MAX, nic->name, net);
}

int vdc_place_set(struct vdc_obj *instance, const char *hostname, struct vdc_err *err)
{
	struct vdc_place *p = vdc_place_of(instance);
	struct vdc_obj *old = host_of_instance(instance), *host = *hostname ? vdc_host_find(hostname) : NULL;
	struct vdc_err ignored = VDC_ERR_INIT;
	struct vdc_link *l;
	int rc;

	rc = vdc_obj_live_put(instance, "host", *hostname ? hostname : NULL, err);
	if (rc < 0)
		return rc;
	if (p->leaving)
		vdc_obj_live_put(instance, "leaving", NULL, &ignored);
	p->leaving = false;
	if (old && (l = host_link(old, instance->name)))
		vdc_rel_remove(old, 0, l, &ignored);
	if (old) {
		host_recount(old);
		vdc_host_bump(old);
	}
	snprintf(p->host, sizeof(p->host), "%s", hostname);
	if (host) {
		if (!host_link(host, instance->name))
			vdc_rel_add(host, 0, instance->name, strlen(instance->name), instance->name, 0, &ignored);
		host_recount(host);
		vdc_host_bump(host);
		vdc_event(instance, "placed on host %s", hostname);
	}
	/* Its nics' MACs now live elsewhere: the other hosts of its networks hear of it. */
	if (vdc_instance_networked(instance))
		vdc_network_touched();
	instance->live_mtime = vdc_now();
	return 0;
}

void vdc_place_leave(struct vdc_obj *instance)
{
	struct vdc_place *p = vdc_place_of(instance);
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *host = host_of_instance(instance);

	if (!host || p->leaving)
		return;
	if (vdc_obj_live_put(instance, "leaving", "1", &err) < 0) {
		vdc_event(instance, "warning: %s", err.msg);
		return;
	}
	p->leaving = true;
	vdc_event(instance, "leaving host %s", p->host);
	vdc_host_bump(host);
}

void vdc_place_live_loaded(struct vdc_obj *instance, const char *name, const char *value)
{
	struct vdc_place *p = vdc_place_of(instance);

	if (!strcmp(name, "host"))
		snprintf(p->host, sizeof(p->host), "%s", value);
	else if (!strcmp(name, "leaving"))
		p->leaving = true;
	else if (!strcmp(name, "reboot"))
		p->reboot = strtoull(value, NULL, 10);
	else if (!strcmp(name, "reset"))
		p->reset = strtoull(value, NULL, 10);
}

void vdc_place_destroyed(struct vdc_obj *instance)
{
	struct vdc_obj *host = host_of_instance(instance);
	struct vdc_err ignored = VDC_ERR_INIT;
	struct vdc_link *l;

	if (!host)
		return;
	l = host_link(host, instance->name);
	if (l)
		vdc_rel_remove(host, 0, l, &ignored);
	host_recount(host);
	vdc_host_bump(host);
}

void vdc_place_renamed(struct vdc_obj *instance, const char *old)
{
	struct vdc_obj *host = host_of_instance(instance);
	struct vdc_err ignored = VDC_ERR_INIT;
	struct vdc_link *l;

	if (!host)
		return;
	l = host_link(host, old);
	if (l)
		vdc_rel_remove(host, 0, l, &ignored);
	vdc_rel_add(host, 0, instance->name, strlen(instance->name), instance->name, 0, &ignored);
	vdc_host_bump(host);
}

/* ---- capacity ---- */

void vdc_instance_size(const struct vdc_obj *obj, unsigned *cpus, uint64_t *memory)
{
	uint64_t c = 1, m = 0;
	size_t len;
	const char *v;

	v = vdc_attr_value(obj, (unsigned)attr_index(obj, "cpus"), &len);
	vdc_uint_parse(v, len, "cpus", 1, UINT32_MAX, &c, NULL);
	v = vdc_attr_value(obj, (unsigned)attr_index(obj, "memory"), &len);
	vdc_size_parse(v, len, "memory", &m, NULL);
	*cpus = (unsigned)c;
	*memory = m;
}

/* Count what the instances placed on `host` take, kept in its vdc_host. */
static void host_recount(struct vdc_obj *host)
{
	struct vdc_host *h = vdc_host_of(host);
	const struct vdc_reldir *r = &host->rel[0];
	unsigned i, c;
	uint64_t m;

	h->cpus_used = 0;
	h->memory_used = 0;
	for (i = 0; i < r->n; i++) {
		struct vdc_obj *inst = vdc_link_target(r->links[i]);

		if (!inst)
			continue;
		vdc_instance_size(inst, &c, &m);
		h->cpus_used += c;
		h->memory_used += m;
	}
}

static void host_use(const struct vdc_obj *host, unsigned *cpus, uint64_t *memory)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);

	*cpus = h->cpus_used;
	*memory = h->memory_used;
}

void vdc_place_resized(struct vdc_obj *instance)
{
	struct vdc_obj *host = host_of_instance(instance);

	if (host)
		host_recount(host);
}

bool vdc_host_schedulable(const struct vdc_obj *host)
{
	size_t len;
	const char *v = vdc_attr_value(host, (unsigned)attr_index(host, "schedulable"), &len);

	return len == 2 && !memcmp(v, "on", 2);
}

size_t vdc_hosts_caps(const struct vdc_obj *instance, struct vdc_host_cap **caps)
{
	const struct vdc_kind *k = vdc_hosts_kind();
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct vdc_map_entry *e;
	size_t n = 0, b;

	*caps = NULL;
	if (!all || !all->count)
		return 0;
	*caps = xcalloc(all->count, sizeof(**caps));
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *o = e->value;
		struct vdc_host *h = vdc_host_of(o);
		struct vdc_host_cap *c;

		if (h->role != VDC_ROLE_HVA)
			continue;
		c = &(*caps)[n++];

		c->name = o->name;
		c->cpus = h->cpus;
		c->memory = h->memory;
		host_use(o, &c->cpus_used, &c->memory_used);
		c->schedulable = vdc_host_schedulable(o);
		c->up = h->reported && !strcmp(o->state, "up");
		/* An instance without a network adds none: no host can be over the limit by it. */
		if (instance && instance->children.count) {
			struct vdc_map set;
			size_t nics = 0;

			vdc_map_init(&set);
			networks_of(instance, NULL, &set, &nics);
			if (set.count) {
				nics = 0;
				host_networks(o, instance, NULL, &set, &nics);
			}
			c->networks = (unsigned)set.count;
			c->nics = (unsigned)nics;
			vdc_map_clear(&set);
		}
		/* Likewise an instance in no security group adds none. */
		if (instance) {
			struct name_set mine = { NULL, 0, { NULL, 0, 0 } };

			vdc_map_init(&mine.map);
			instance_groups(instance, &mine);
			if (mine.n)
				c->groups = (unsigned)host_groups(o, instance, NULL, NULL, NULL);
			vdc_map_clear(&mine.map);
			free(mine.v);
		}
	}
	return n;
}

/*
 * The instances placed on `host`, as a copy (free it): reconciling may move
 * an instance off the host, which changes its list of links.
 */
struct vdc_obj **vdc_placed_on(const struct vdc_obj *host, unsigned *n)
{
	const struct vdc_reldir *r = &host->rel[0];
	struct vdc_obj **list = xcalloc(r->n ? r->n : 1, sizeof(*list));
	unsigned i;

	for (i = 0; i < r->n; i++)
		list[i] = vdc_link_target(r->links[i]);
	*n = r->n;
	return list;
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
	if (strcmp(host->state, "up")) {
		vdc_obj_set_state(host, "up");
		vdc_obj_set_err(host, NULL);
	}
}

bool vdc_host_silenced(struct vdc_obj *o, const struct timespec *now)
{
	struct vdc_host *h = vdc_host_of(o);

	if (!strcmp(o->state, "unknown") || now->tv_sec - h->last_seen.tv_sec < (time_t)host_timeout)
		return false;
	if (!strcmp(o->state, "joined") && !h->reported)
		return false;   /* never reported: nothing of it can be unknown */
	h->reported = false;
	vdc_obj_set_state(o, "unknown");
	vdc_obj_set_err(o, h->role == VDC_ROLE_STA ?
			"no report for more than the host timeout; its volumes are unknown until it reports again" :
			"no report for more than the host timeout; its instances are unknown until it reports again");
	return true;
}

/* ---- console ---- */

uint64_t vdc_console_append(struct vdc_obj *instance, uint64_t offset, const char *buf, size_t len)
{
	struct vdc_place *p = vdc_place_of(instance);
	uint64_t end = offset + len;
	size_t skip, keep;

	if (end <= p->console_have)
		return p->console_have;
	skip = offset < p->console_have ? (size_t)(p->console_have - offset) : 0;
	buf += skip;
	len -= skip;
	if (len >= VDC_CONSOLE_MAX) {
		buf += len - VDC_CONSOLE_MAX;
		len = VDC_CONSOLE_MAX;
	}
	if (!p->console)
		p->console = xmalloc(VDC_CONSOLE_MAX);
	keep = p->console_len + len > VDC_CONSOLE_MAX ? VDC_CONSOLE_MAX - len : p->console_len;
	memmove(p->console, p->console + p->console_len - keep, keep);
	memcpy(p->console + keep, buf, len);
	p->console_len = keep + len;
	p->console_have = end;
	instance->live_mtime = vdc_now();
	return p->console_have;
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

	host_use(host, &c, &m);
	strbuf_addf(out, "%u\n", c);
}

void vdc_host_show_memory_used(const struct vdc_obj *host, struct strbuf *out)
{
	unsigned c;
	uint64_t m;

	host_use(host, &c, &m);
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

void vdc_instance_show_host(const struct vdc_obj *obj, struct strbuf *out)
{
	const struct vdc_place *p = vdc_place_of((struct vdc_obj *)obj);

	if (p->host[0])
		strbuf_addf(out, "%s\n", p->host);
}

const struct vdc_seen *vdc_seen_of(const struct vdc_obj *obj)
{
	struct vdc_obj *host = host_of_instance((struct vdc_obj *)obj);

	return host ? vdc_imap_get(&vdc_host_of(host)->seen, (uint64_t)obj->id) : NULL;
}

void vdc_instance_show_console(const struct vdc_obj *obj, struct strbuf *out)
{
	const struct vdc_place *p = vdc_place_of((struct vdc_obj *)obj);

	if (p->console_len)
		strbuf_add(out, p->console, p->console_len);
}

/* ---- the hosts kind's hooks ---- */

int vdc_host_busy(const struct vdc_obj *host, struct vdc_err *err)
{
	unsigned n = host->rel[0].n, nv = host->kind->nreldirs > 1 ? host->rel[1].n : 0;

	if (nv && strcmp(host->state, "unknown"))
		return vdc_err_set(err, -EBUSY, "storage host %s holds %u volume%s; remove them first", host->name, nv,
				   nv == 1 ? "" : "s");
	if (!n || !strcmp(host->state, "unknown"))
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
}

bool vdc_host_is_up(const struct vdc_obj *host)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);

	return h->reported && !strcmp(host->state, "up");
}

/*
 * After a restart the links of hosts/NAME/instances/ and the instances'
 * own "host" values are made to agree; the instance's value wins.
 */
void vdc_host_loaded(struct vdc_obj *host)
{
	struct vdc_reldir *r = &host->rel[0];
	struct vdc_err ignored = VDC_ERR_INIT;
	unsigned i = 0;

	vdc_host_of(host);
	while (i < r->n) {
		struct vdc_obj *inst = vdc_link_target(r->links[i]);

		if (!inst || strcmp(vdc_place_of(inst)->host, host->name)) {
			if (vdc_rel_remove(host, 0, r->links[i], &ignored) == 0)
				continue;
		}
		i++;
	}
	host_recount(host);
}

bool vdc_instance_power_on(const struct vdc_obj *obj)
{
	size_t len;
	const char *v = vdc_attr_value(obj, (unsigned)attr_index(obj, "power"), &len);

	return len == 2 && !memcmp(v, "on", 2);
}
