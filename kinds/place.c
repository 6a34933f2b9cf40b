/*
 * The placement of instances on hosts: which host each instance is on
 * (struct vdc_place), the links of hosts/NAME/instances/, what placed
 * instances take of a host, and the limits of networks and security
 * groups a host's desired state may carry. Above host.c (hosts as they
 * joined and reported) and below the kinds that place or read placement
 * (instance.c, network.c, volume.c); it calls nothing above it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "instance.h"
#include "network.h"
#include "place.h"

struct vdc_place *vdc_place_of(struct vdc_obj *instance)
{
	if (!instance->priv)
		instance->priv = xcalloc(1, sizeof(struct vdc_place));
	return instance->priv;
}

/* The instances with a live migration under way (few at a time: a plain list). */
static struct vdc_obj **migrating;
static size_t nmigrating;

static void migrating_drop(const struct vdc_obj *instance)
{
	size_t i;

	for (i = 0; i < nmigrating; i++)
		if (migrating[i] == instance) {
			migrating[i] = migrating[--nmigrating];
			return;
		}
}

static void migrating_add(struct vdc_obj *instance)
{
	migrating_drop(instance);
	migrating = xrealloc(migrating, (nmigrating + 1) * sizeof(*migrating));
	migrating[nmigrating++] = instance;
}

void vdc_place_release(struct vdc_obj *instance)
{
	struct vdc_place *p = instance->priv;

	migrating_drop(instance);
	if (!nmigrating) {
		free(migrating);
		migrating = NULL;
	}
	if (p) {
		free(p->console);
		free(p->input);
	}
	free(p);
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

	for (e = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &b); e;
	     e = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], e, &b)) {
		const struct vdc_obj *nic = e->value;
		const struct vdc_link *l = nic->attrs[VDC_NIC_NETWORK].link;

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
	const struct vdc_reldir *r = &host->rel[VDC_HOST_INSTANCES];
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
static void instance_groups(const struct vdc_obj *inst, struct vdc_name_set *s)
{
	const struct vdc_reldir *r = &inst->rel[VDC_INSTANCE_SECURITY_GROUPS];
	unsigned k;

	for (k = 0; k < r->n; k++)
		vdc_name_set_add(s, r->links[k]->tname);
}

void vdc_groups_close(struct vdc_name_set *s, const char *over_group, const char *over_text, size_t over_len,
		      size_t limit)
{
	const struct vdc_kind *gk = vdc_kind(VDC_KIND_SECURITY_GROUPS);
	struct vdc_rule *rules = xcalloc(VDC_RULES_MAX, sizeof(*rules));
	size_t g, n, k;

	/* s->n grows as peers are found. */
	for (g = 0; g < s->n && s->n <= limit; g++) {
		struct vdc_obj *o = gk ? vdc_obj_find(gk, NULL, s->v[g], strlen(s->v[g])) : NULL;
		size_t len = 0;
		const char *text = o ? vdc_attr_value(o, VDC_GROUP_RULES, &len) : "";

		if (over_group && !strcmp(s->v[g], over_group)) {
			text = over_text;
			len = over_len;
		}
		n = 0;
		if (len && vdc_rules_parse(text, len, rules, &n, NULL) < 0)
			n = 0;
		for (k = 0; k < n; k++)
			if (rules[k].peer_is_group)
				vdc_name_set_add(s, rules[k].peer_group);
	}
	free(rules);
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
 * their peers (vdc_groups_close), as vdc_network_desired() sends them.
 * `*has` (when not NULL) says whether `over`'s group is among them.
 * Counting stops past VDC_HOST_GROUPS_MAX.
 */
static size_t host_groups(const struct vdc_obj *host, const struct vdc_obj *extra, const char *group,
			  const struct rules_override *over, bool *has)
{
	const struct vdc_reldir *r = &host->rel[VDC_HOST_INSTANCES];
	struct vdc_name_set s = VDC_NAME_SET_INIT;
	size_t n;
	unsigned i;

	for (i = 0; i < r->n; i++) {
		struct vdc_obj *inst = vdc_link_target(r->links[i]);

		if (inst && inst != extra && !vdc_place_of(inst)->leaving)
			instance_groups(inst, &s);
	}
	if (extra)
		instance_groups(extra, &s);
	if (group)
		vdc_name_set_add(&s, group);
	vdc_groups_close(&s, over ? over->group : NULL, over ? over->text : NULL, over ? over->len : 0,
			 VDC_HOST_GROUPS_MAX);
	n = s.n;
	if (has)
		*has = over && vdc_name_set_has(&s, over->group);
	vdc_name_set_release(&s);
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

		if (vdc_host_of(host)->role != VDC_ROLE_HVA || !host->rel[VDC_HOST_INSTANCES].n)
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
	/*
	 * Another host's console log starts at its own byte 0: what vdcfs has
	 * counts from there on (the text so far stays in run/console), or the
	 * new host's first bytes would be taken for ones already received.
	 */
	if (strcmp(p->host, hostname)) {
		p->console_have = 0;
		vdc_console_input_drop(instance);   /* typed for the old host's guest */
	}
	snprintf(p->host, sizeof(p->host), "%s", hostname);
	if (host) {
		if (!host_link(host, instance->name))
			vdc_rel_add(host, 0, instance->name, strlen(instance->name), instance->name, 0, &ignored);
		host_recount(host);
		vdc_host_bump(host);
		vdc_event(instance, "placed on host %s", hostname);
	}
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
	else if (!strcmp(name, "migrate-seq"))
		p->migrate_seq = strtoull(value, NULL, 10);
	else if (!strcmp(name, "migrate-go"))
		p->migrate_go = true;
	else if (!strcmp(name, "migrate-to")) {
		snprintf(p->migrate_to, sizeof(p->migrate_to), "%s", value);
		migrating_add(instance);
	}
}

/* ---- live migration ---- */

static void bump_named(const char *name)
{
	struct vdc_obj *host = *name ? vdc_host_find(name) : NULL;

	if (host) {
		host_recount(host);
		vdc_host_bump(host);
	}
}

int vdc_place_migrate_begin(struct vdc_obj *instance, const char *to, struct vdc_err *err)
{
	struct vdc_place *p = vdc_place_of(instance);
	struct vdc_err ignored = VDC_ERR_INIT;
	char seq[24];
	int rc;

	snprintf(seq, sizeof(seq), "%" PRIu64, p->migrate_seq + 1);
	rc = vdc_obj_live_put(instance, "migrate-seq", seq, err);
	if (rc == 0)
		rc = vdc_obj_live_put(instance, "migrate-to", to, err);
	if (rc < 0)
		return rc;
	vdc_obj_live_put(instance, "migrate-go", NULL, &ignored);
	p->migrate_seq++;
	p->migrate_go = false;
	snprintf(p->migrate_to, sizeof(p->migrate_to), "%s", to);
	migrating_add(instance);
	bump_named(to);
	bump_named(p->host);
	instance->live_mtime = vdc_now();
	return 0;
}

void vdc_place_migrate_go(struct vdc_obj *instance)
{
	struct vdc_place *p = vdc_place_of(instance);
	struct vdc_err err = VDC_ERR_INIT;

	if (p->migrate_go)
		return;
	if (vdc_obj_live_put(instance, "migrate-go", "1", &err) < 0) {
		vdc_event(instance, "warning: %s", err.msg);
		return;
	}
	p->migrate_go = true;
	bump_named(p->host);
}

void vdc_place_migrate_end(struct vdc_obj *instance)
{
	struct vdc_place *p = vdc_place_of(instance);
	struct vdc_err ignored = VDC_ERR_INIT;
	char to[VDC_NAME_MAX + 1];

	if (!p->migrate_to[0])
		return;
	vdc_obj_live_put(instance, "migrate-to", NULL, &ignored);
	vdc_obj_live_put(instance, "migrate-go", NULL, &ignored);
	snprintf(to, sizeof(to), "%s", p->migrate_to);
	p->migrate_to[0] = 0;
	p->migrate_go = false;
	migrating_drop(instance);
	bump_named(to);
	bump_named(p->host);
	instance->live_mtime = vdc_now();
}

struct vdc_obj **vdc_place_migrating(size_t *n)
{
	struct vdc_obj **copy = xcalloc(nmigrating ? nmigrating : 1, sizeof(*copy));

	if (nmigrating)
		memcpy(copy, migrating, nmigrating * sizeof(*copy));
	*n = nmigrating;
	return copy;
}

const struct vdc_seen *vdc_seen_at(const struct vdc_obj *instance, const char *hostname)
{
	struct vdc_obj *host = *hostname ? vdc_host_find(hostname) : NULL;

	return host ? vdc_imap_get(&vdc_host_of(host)->seen, (uint64_t)instance->id) : NULL;
}

void vdc_place_destroyed(struct vdc_obj *instance)
{
	struct vdc_obj *host = host_of_instance(instance);
	struct vdc_err ignored = VDC_ERR_INIT;
	struct vdc_place *p = vdc_place_of(instance);
	struct vdc_link *l;

	if (p->migrate_to[0]) {
		migrating_drop(instance);
		bump_named(p->migrate_to);
	}

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

	v = vdc_attr_value(obj, VDC_INSTANCE_CPUS, &len);
	vdc_uint_parse(v, len, "cpus", 1, UINT32_MAX, &c, NULL);
	v = vdc_attr_value(obj, VDC_INSTANCE_MEMORY, &len);
	vdc_size_parse(v, len, "memory", &m, NULL);
	*cpus = (unsigned)c;
	*memory = m;
}

/* Count what the instances placed on `host` take, kept in its vdc_host. */
static void host_recount(struct vdc_obj *host)
{
	struct vdc_host *h = vdc_host_of(host);
	const struct vdc_reldir *r = &host->rel[VDC_HOST_INSTANCES];
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
	/* A live migration's destination holds its room from the start. */
	for (i = 0; i < nmigrating; i++) {
		if (strcmp(vdc_place_of(migrating[i])->migrate_to, host->name))
			continue;
		vdc_instance_size(migrating[i], &c, &m);
		h->cpus_used += c;
		h->memory_used += m;
	}
}

void vdc_place_resized(struct vdc_obj *instance)
{
	struct vdc_obj *host = host_of_instance(instance);

	if (host)
		host_recount(host);
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
		vdc_host_use(o, &c->cpus_used, &c->memory_used);
		c->schedulable = vdc_host_schedulable(o);
		c->up = h->reported && vdc_host_in(o, VDC_HSTATE_UP);
		/* An instance without a network adds none: no host can be over the limit by it. */
		if (instance && instance->children[VDC_INSTANCE_NICS].count) {
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
		if (instance && instance->rel[VDC_INSTANCE_SECURITY_GROUPS].n)
			c->groups = (unsigned)host_groups(o, instance, NULL, NULL, NULL);
	}
	return n;
}

/*
 * The instances placed on `host`, as a copy (free it): reconciling may move
 * an instance off the host, which changes its list of links.
 */
struct vdc_obj **vdc_placed_on(const struct vdc_obj *host, unsigned *n)
{
	const struct vdc_reldir *r = &host->rel[VDC_HOST_INSTANCES];
	struct vdc_obj **list = xcalloc(r->n ? r->n : 1, sizeof(*list));
	unsigned i;

	for (i = 0; i < r->n; i++)
		list[i] = vdc_link_target(r->links[i]);
	*n = r->n;
	return list;
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

/* ---- console input ---- */

/*
 * Pushes are counted under their own lock, not the model's: a fetch
 * waits for the next one without holding the model, as the desired
 * state's long-poll waits for a bump (host.c).
 */
static pthread_mutex_t input_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t input_cond;
static bool input_cond_ready;
static uint64_t input_pushes;

static void input_cond_init(void)
{
	pthread_condattr_t a;

	if (input_cond_ready)
		return;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&input_cond, &a);
	pthread_condattr_destroy(&a);
	input_cond_ready = true;
}

void vdc_console_input_wake(void)
{
	pthread_mutex_lock(&input_lock);
	input_cond_init();
	input_pushes++;
	pthread_cond_broadcast(&input_cond);
	pthread_mutex_unlock(&input_lock);
}

uint64_t vdc_console_input_pushes(void)
{
	uint64_t n;

	pthread_mutex_lock(&input_lock);
	n = input_pushes;
	pthread_mutex_unlock(&input_lock);
	return n;
}

void vdc_console_input_wait(uint64_t seen, const struct timespec *deadline)
{
	pthread_mutex_lock(&input_lock);
	input_cond_init();
	while (input_pushes == seen) {
		if (pthread_cond_timedwait(&input_cond, &input_lock, deadline))
			break;
	}
	pthread_mutex_unlock(&input_lock);
}

int vdc_console_input_push(struct vdc_obj *instance, const char *buf, size_t len, struct vdc_err *err)
{
	struct vdc_place *p = vdc_place_of(instance);

	if (len > VDC_CONSOLE_INPUT_MAX - p->input_len)
		return vdc_err_set(err, -EAGAIN,
				   "the console input of instance %s is full (%zu bytes wait for host %s to take them, "
				   "%d at most); write again in a moment",
				   instance->name, p->input_len, p->host[0] ? p->host : "(none)", VDC_CONSOLE_INPUT_MAX);
	if (!p->input)
		p->input = xmalloc(VDC_CONSOLE_INPUT_MAX);
	memcpy(p->input + p->input_len, buf, len);
	p->input_len += len;
	vdc_console_input_wake();
	return 0;
}

void vdc_console_input_drop(struct vdc_obj *instance)
{
	struct vdc_place *p = vdc_place_of(instance);

	free(p->input);
	p->input = NULL;
	p->input_len = 0;
}

struct vdc_console_input *vdc_console_input_take(const struct vdc_obj *host, size_t *n)
{
	const struct vdc_reldir *r = &host->rel[VDC_HOST_INSTANCES];
	struct vdc_console_input *list = NULL;
	unsigned i;

	*n = 0;
	for (i = 0; i < r->n; i++) {
		struct vdc_obj *inst = vdc_link_target(r->links[i]);
		struct vdc_place *p;

		if (!inst || !(p = vdc_place_of(inst))->input_len)
			continue;
		list = xrealloc(list, (*n + 1) * sizeof(*list));
		list[*n].id = inst->id;
		list[*n].buf = p->input;
		list[*n].len = p->input_len;
		(*n)++;
		p->input = NULL;
		p->input_len = 0;
	}
	return list;
}

/* ---- what the tree shows ---- */

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

/*
 * After a restart the links of hosts/NAME/instances/ and the instances'
 * own "host" values are made to agree; the instance's value wins.
 */
void vdc_host_loaded(struct vdc_obj *host)
{
	struct vdc_reldir *r = &host->rel[VDC_HOST_INSTANCES];
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
