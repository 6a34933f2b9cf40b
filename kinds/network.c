/*
 * Virtual networks on the vdcfs side: what network.h documents (a
 * network's VNI and addresses, every nic's address and auto-ip, security
 * groups, a hypervisor's networks in its desired state); nics' MACs are
 * apart in nic_mac.c. Over 1,000 lines: the addresses and the desired
 * state read the same private state (struct params, holder(), the nics of
 * a network), which a split would have to expose in network.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "instance.h"
#include "network.h"
#include "place.h"

#define NO_ADDRESS "no address: "
#define HINT_TAKEN "auto-ip "

/* Set while vdcfs writes a nic's auto-ip down itself: no change then is a user's. */
static bool writing_hint;

static struct vdc_net *net_of(struct vdc_obj *net)
{
	if (!net->priv)
		net->priv = xcalloc(1, sizeof(struct vdc_net));
	return net->priv;
}

static struct vdc_nic *nic_of(struct vdc_obj *nic)
{
	if (!nic->priv)
		nic->priv = xcalloc(1, sizeof(struct vdc_nic));
	return nic->priv;
}

/* ---- a network's addresses ---- */

/* What the cidr and gateway of a network say; `ok` false without a cidr. */
struct params {
	bool ok;
	uint32_t net, first, last;      /* the network address and its host addresses */
	unsigned prefix;
	uint32_t gw, server;
};

void vdc_network_reserved(uint32_t net, unsigned prefix, uint32_t gateway, uint32_t *gw_out,
			  uint32_t *server_out)
{
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0, last = (net | ~mask) - 1;

	*gw_out = gateway ? gateway : net + 1;
	*server_out = last == *gw_out ? last - 1 : last;
}

static struct params params_from(uint32_t net, unsigned prefix, uint32_t gateway)
{
	struct params p = { .ok = true, .net = net, .prefix = prefix };
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;

	p.first = net + 1;
	p.last = (net | ~mask) - 1;
	vdc_network_reserved(net, prefix, gateway, &p.gw, &p.server);
	return p;
}

int vdc_network_cidr(const struct vdc_obj *net, uint32_t *addr, unsigned *prefix)
{
	size_t len;
	const char *v = vdc_attr_value(net, VDC_NETWORK_CIDR, &len);

	if (!len)
		return -ENOENT;
	return vdc_cidr_parse(v, len, addr, prefix, NULL);
}

/* The gateway attribute, 0 when empty (the default) or not an address. */
static uint32_t gateway_attr(const struct vdc_obj *net)
{
	size_t len;
	const char *v = vdc_attr_value(net, VDC_NETWORK_GATEWAY, &len);
	uint32_t gw = 0;

	if (len && vdc_ipv4_parse(v, len, &gw, NULL) < 0)
		gw = 0;
	return gw;
}

static struct params params_of(const struct vdc_obj *net)
{
	struct params p = { .ok = false };
	uint32_t addr;
	unsigned prefix;

	if (net && vdc_network_cidr(net, &addr, &prefix) == 0)
		p = params_from(addr, prefix, gateway_attr(net));
	return p;
}

/* Why `a` cannot be a nic's address in a network of `p`, or NULL when it can. */
static const char *addr_unusable(const struct params *p, uint32_t a)
{
	if (a < p->first || a > p->last)
		return "is not a host address of the network's cidr";
	if (a == p->gw)
		return "is the network's gateway";
	if (a == p->server)
		return "is the address of the network's DHCP server";
	return NULL;
}

/* A nic's pinned address (its `ip`); false when it has none. */
static bool nic_pin(const struct vdc_obj *nic, uint32_t *pin)
{
	size_t len;
	const char *v = vdc_attr_value(nic, VDC_NIC_IP, &len);

	return len && vdc_ipv4_parse(v, len, pin, NULL) == 0;
}

/* A nic's auto-ip; false when it has none. */
static bool nic_hint(const struct vdc_obj *nic, uint32_t *hint)
{
	size_t len;
	const char *v = vdc_attr_value(nic, VDC_NIC_AUTO_IP, &len);

	return len && vdc_ipv4_parse(v, len, hint, NULL) == 0;
}

/* The network a nic's link names, if it exists. */
static struct vdc_obj *nic_target(const struct vdc_obj *nic)
{
	struct vdc_link *l = nic->attrs[VDC_NIC_NETWORK].link;

	return l ? vdc_link_target(l) : NULL;
}

/* The nic of network `net` other than `except` that holds `a`. */
static struct vdc_obj *holder(struct vdc_obj *net, uint32_t a, const struct vdc_obj *except)
{
	struct vdc_net *n = net_of(net);
	unsigned i;

	for (i = 0; i < n->n; i++)
		if (n->nics[i] != except && nic_of(n->nics[i])->addr == a)
			return n->nics[i];
	return NULL;
}

static void nic_set_err(struct vdc_obj *nic, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void nic_set_err(struct vdc_obj *nic, const char *fmt, ...)
{
	char msg[VDC_ERR_MSG_MAX];
	va_list ap;
	int n = snprintf(msg, sizeof(msg), NO_ADDRESS);

	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (!nic->err || strcmp(nic->err, msg))
		vdc_obj_set_err(nic, msg);
}

/* Give `nic` address `a` (0: none), persisted, and say so. */
static void nic_set_addr(struct vdc_obj *nic, uint32_t a)
{
	struct vdc_nic *c = nic_of(nic);
	struct vdc_err err = VDC_ERR_INIT;
	char text[VDC_IPV4_TEXT];

	if (a && nic->err && !strncmp(nic->err, NO_ADDRESS, strlen(NO_ADDRESS)))
		vdc_obj_set_err(nic, NULL);
	if (c->addr == a)
		return;
	vdc_ipv4_format(a, text);
	if (vdc_obj_live_put(nic, "ip", a ? text : NULL, &err) < 0)
		vdc_event(nic, "warning: %s", err.msg);
	c->addr = a;
	if (a)
		vdc_event(nic, "address %s", text);
	else
		vdc_event(nic, "address released");
	vdc_obj_live_changed(nic);
	if (nic->parent)
		vdc_obj_live_changed(nic->parent);
}

/*
 * `nic` of `net` has address `a`: an automatic one is written down as its
 * auto-ip, unless its auto-ip is one another nic holds (a copy's: it
 * stays as written, and run/err says why the nic has another).
 */
static void hint_write_down(struct vdc_obj *net, const struct params *p, struct vdc_obj *nic, uint32_t a)
{
	struct vdc_err err = VDC_ERR_INIT;
	char text[VDC_IPV4_TEXT], htext[VDC_IPV4_TEXT], msg[VDC_ERR_MSG_MAX];
	struct vdc_obj *other;
	uint32_t pin, h;

	if (nic_pin(nic, &pin))
		return;
	vdc_ipv4_format(a, text);
	if (nic_hint(nic, &h) && h != a && !addr_unusable(p, h)) {
		__do_strbuf struct strbuf path = STRBUF_INIT;

		other = holder(net, h, nic);
		if (other)
			vdc_obj_path(other, &path);
		vdc_ipv4_format(h, htext);
		if (!vdc_nic_powered_on(nic) || !other) {
			/* Off: a copy reads as its original until it may have it. On: it goes there at the next power on. */
			if (other)
				snprintf(msg, sizeof(msg), HINT_TAKEN "%s is in use by %s; this nic has %s until it is free when its instance is powered on",
					 htext, path.buf, text);
			else
				snprintf(msg, sizeof(msg), HINT_TAKEN "%s is this nic's when its instance is next powered on; its guest has %s",
					 htext, text);
			if (!nic->err || strcmp(nic->err, msg))
				vdc_obj_set_err(nic, msg);
			return;
		}
		/* On, and another has it: this nic's own is written down, so an archive carries what the guest has. */
		vdc_event(nic, "auto-ip %s is in use by %s, whose instance is powered on: this nic keeps %s", htext,
			  path.buf, text);
	}
	if (nic->err && !strncmp(nic->err, HINT_TAKEN, strlen(HINT_TAKEN)))
		vdc_obj_set_err(nic, NULL);
	if (nic_hint(nic, &h) && h == a)
		return;
	writing_hint = true;
	if (vdc_attr_set(nic, VDC_NIC_AUTO_IP, text, strlen(text), &err) < 0)
		vdc_event(nic, "warning: %s", err.msg);
	writing_hint = false;
}

static void each_nic(void (*fn)(struct vdc_obj *nic, void *arg), void *arg);

/* Note the auto-ip of `nic` in the map `arg`, unless it pins an address (then it wants that one). */
static void note_hint(struct vdc_obj *nic, void *arg)
{
	uint32_t h, pin;

	if (!nic_pin(nic, &pin) && nic_hint(nic, &h))
		vdc_imap_put(arg, h, nic);
}

static int cmp_obj_id(const void *a, const void *b)
{
	const struct vdc_obj *x = *(struct vdc_obj *const *)a, *y = *(struct vdc_obj *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Work out the address of every nic of `net` again: pinned addresses
 * first, then the automatic ones that still hold a valid address keep it,
 * then the rest take the lowest free ones, in the order the nics were
 * made. Idempotent: with nothing changed, nothing moves.
 */
static void network_assign(struct vdc_obj *net)
{
	struct vdc_net *n = net_of(net);
	struct params p = params_of(net);
	struct vdc_obj **list;
	uint32_t *want, next, fallback;
	struct vdc_imap claimed, hinted;
	unsigned i, pass;

	if (!n->n)
		return;
	if (!p.ok) {
		/* Without a cidr nothing is wrong with a nic: it waits for one. */
		for (i = 0; i < n->n; i++) {
			struct vdc_obj *nic = n->nics[i];

			nic_set_addr(nic, 0);
			if (nic->err && !strncmp(nic->err, NO_ADDRESS, strlen(NO_ADDRESS)))
				vdc_obj_set_err(nic, NULL);
		}
		return;
	}
	list = xcalloc(n->n, sizeof(*list));
	want = xcalloc(n->n, sizeof(*want));
	memcpy(list, n->nics, n->n * sizeof(*list));
	qsort(list, n->n, sizeof(*list), cmp_obj_id);
	vdc_imap_init(&claimed);
	for (i = 0; i < n->n; i++) {
		uint32_t pin;
		const char *why;
		char text[VDC_IPV4_TEXT];

		if (!nic_pin(list[i], &pin))
			continue;
		vdc_ipv4_format(pin, text);
		why = addr_unusable(&p, pin);
		if (why)
			nic_set_err(list[i], "its ip %s %s; write another or empty ip", text, why);
		else if (vdc_imap_get(&claimed, pin))
			nic_set_err(list[i], "its ip %s is pinned by another nic of network %s too", text, net->name);
		else
			vdc_imap_put(&claimed, pin, list[i]);
		want[i] = why ? 0 : pin;
	}
	/*
	 * Then, the nics of powered-on instances first (a guest may run with
	 * the address), each keeps the address it has, then takes its
	 * auto-ip, when free.
	 */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n->n; i++) {
			uint32_t a = nic_of(list[i])->addr, pin;

			if (want[i] || vdc_nic_powered_on(list[i]) != !pass || nic_pin(list[i], &pin) || !a ||
			    addr_unusable(&p, a) || vdc_imap_get(&claimed, a) || nic_of(list[i])->moving)
				continue;
			vdc_imap_put(&claimed, a, list[i]);
			want[i] = a;
		}
		for (i = 0; i < n->n; i++) {
			uint32_t pin, h;

			if (want[i] || vdc_nic_powered_on(list[i]) != !pass || nic_pin(list[i], &pin) ||
			    !nic_hint(list[i], &h) || addr_unusable(&p, h) || vdc_imap_get(&claimed, h))
				continue;
			vdc_imap_put(&claimed, h, list[i]);
			want[i] = h;
		}
	}
	/*
	 * The rest take the lowest free address that no nic of the data
	 * center has as its auto-ip (a restore links nics one by one: one
	 * not linked yet may want it), or failing that the lowest free one.
	 */
	vdc_imap_init(&hinted);
	each_nic(note_hint, &hinted);
	next = fallback = p.first;
	for (i = 0; i < n->n; i++) {
		uint32_t pin, a = 0;

		if (want[i] || nic_pin(list[i], &pin))
			continue;
		/* Both cursors only move on: what they passed stays claimed, reserved or wanted. */
		while (next <= p.last && (next == p.gw || next == p.server || vdc_imap_get(&claimed, next) ||
					  vdc_imap_get(&hinted, next)))
			next++;
		while (next > p.last && fallback <= p.last &&
		       (fallback == p.gw || fallback == p.server || vdc_imap_get(&claimed, fallback)))
			fallback++;
		if (next <= p.last)
			a = next++;
		else if (fallback <= p.last)
			a = fallback++;
		if (!a) {
			nic_set_err(list[i], "network %s has no free address left", net->name);
			continue;
		}
		vdc_imap_put(&claimed, a, list[i]);
		want[i] = a;
	}
	vdc_imap_clear(&hinted);
	/* Let go first, then take: a move between two nics never shows both. */
	for (i = 0; i < n->n; i++)
		if (!want[i])
			nic_set_addr(list[i], 0);
	for (i = 0; i < n->n; i++)
		if (want[i])
			nic_set_addr(list[i], want[i]);
	for (i = 0; i < n->n; i++)
		if (want[i])
			hint_write_down(net, &p, list[i], want[i]);
	vdc_imap_clear(&claimed);
	free(want);
	free(list);
}

static void net_detach(struct vdc_obj *nic)
{
	struct vdc_nic *c = nic_of(nic);
	struct vdc_net *n;
	unsigned i;

	if (!c->net)
		return;
	n = net_of(c->net);
	for (i = 0; i < n->n; i++) {
		if (n->nics[i] == nic) {
			n->nics[i] = n->nics[--n->n];
			break;
		}
	}
	c->net = NULL;
}

static void net_attach(struct vdc_obj *net, struct vdc_obj *nic)
{
	struct vdc_net *n = net_of(net);

	if (n->n == n->alloc) {
		n->alloc = n->alloc ? 2 * n->alloc : 8;
		n->nics = xrealloc(n->nics, n->alloc * sizeof(*n->nics));
	}
	n->nics[n->n++] = nic;
	nic_of(nic)->net = net;
}

/* Bring a nic onto the network its link names now, and its address up to date. */
static void nic_refresh(struct vdc_obj *nic)
{
	struct vdc_obj *want = nic_target(nic), *old = nic_of(nic)->net;

	if (old != want) {
		net_detach(nic);
		if (old)
			network_assign(old);
		if (want)
			net_attach(want, nic);
	}
	if (want)
		network_assign(want);
	else
		nic_set_addr(nic, 0);
}

/* ---- the networks kind ---- */

static uint32_t vni_next(const struct vdc_obj *net)
{
	const struct vdc_map *all = vdc_kind_objects(net->kind);
	uint32_t v = (uint32_t)(net->id % VDC_VNI_MAX) + 1;
	struct vdc_map_entry *e;
	size_t b;
	bool taken = true;

	while (taken) {
		taken = false;
		for (e = vdc_map_first(all, &b); e && !taken; e = vdc_map_next(all, e, &b)) {
			struct vdc_obj *o = e->value;

			taken = o != net && o->priv && ((struct vdc_net *)o->priv)->vni == v;
		}
		if (taken)
			v = v % VDC_VNI_MAX + 1;
	}
	return v;
}

/* A network without a VNI (new, or made before VNIs existed) gets one. */
static void vni_ensure(struct vdc_obj *net)
{
	struct vdc_net *n = net_of(net);
	struct vdc_err err = VDC_ERR_INIT;
	char text[16];

	if (n->vni)
		return;
	n->vni = vni_next(net);
	snprintf(text, sizeof(text), "%" PRIu32, n->vni);
	if (vdc_obj_live_put(net, "vni", text, &err) < 0)
		vdc_event(net, "warning: %s", err.msg);
}

static void network_state(struct vdc_obj *net)
{
	vdc_obj_set_state(net, params_of(net).ok ? "available" : "defined");
}

/* Every nic of every instance, with `fn` called on each. */
static void each_nic(void (*fn)(struct vdc_obj *nic, void *arg), void *arg)
{
	const struct vdc_kind *k = vdc_kind(VDC_KIND_INSTANCES);
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct vdc_map_entry *e, *c;
	size_t b, cb;

	if (!all)
		return;
	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *inst = e->value;

		for (c = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &cb); c;
		     c = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], c, &cb))
			fn(c->value, arg);
	}
}

static void attach_if_named(struct vdc_obj *nic, void *arg)
{
	struct vdc_obj *net = arg;
	struct vdc_link *l = nic->attrs[VDC_NIC_NETWORK].link;

	if (l && vdc_link_target(l) == net && nic_of(nic)->net != net) {
		net_detach(nic);
		net_attach(net, nic);
	}
}

void vdc_network_created(struct vdc_obj *net)
{
	vni_ensure(net);
	/* Links may name it before it exists (rsync restores them first). */
	each_nic(attach_if_named, net);
	network_assign(net);
	vdc_network_touched();
}

void vdc_network_renamed(struct vdc_obj *net, const char *old)
{
	(void)old;
	/* Nothing linked the old name (rename is refused then); links may name the new one. */
	each_nic(attach_if_named, net);
	network_assign(net);
	vdc_network_touched();
}

void vdc_network_loaded(struct vdc_obj *net)
{
	vni_ensure(net);
	network_state(net);
}

void vdc_network_live_loaded(struct vdc_obj *net, const char *name, const char *value)
{
	if (!strcmp(name, "vni"))
		net_of(net)->vni = (uint32_t)strtoul(value, NULL, 10) & VDC_VNI_MAX;
}

void vdc_network_changed(struct vdc_obj *net, unsigned attr)
{
	if (attr == VDC_NETWORK_CIDR || attr == VDC_NETWORK_GATEWAY) {
		network_assign(net);
		network_state(net);
	}
	vdc_network_touched();
}

void vdc_network_release(struct vdc_obj *net)
{
	struct vdc_net *n = net->priv;

	if (n)
		free(n->nics);
	free(n);
}

/* Would every pinned nic of `net` keep a valid address under `p`? */
static int pins_fit(const struct vdc_obj *net, const struct params *p, struct vdc_err *err)
{
	struct vdc_net *n = net->priv;
	unsigned i;

	for (i = 0; n && i < n->n; i++) {
		__do_strbuf struct strbuf path = STRBUF_INIT;
		char text[VDC_IPV4_TEXT];
		const char *why;
		uint32_t pin;

		if (!nic_pin(n->nics[i], &pin) || !(why = addr_unusable(p, pin)))
			continue;
		vdc_obj_path(n->nics[i], &path);
		vdc_ipv4_format(pin, text);
		return vdc_err_set(err, pin == p->gw || pin == p->server ? -EADDRINUSE : -EINVAL,
				   "%s pins ip %s, which then %s; change or empty its ip first", path.buf, text,
				   why);
	}
	return 0;
}

int vdc_network_check_cidr(const struct vdc_obj *net, uint32_t addr, unsigned prefix, struct vdc_err *err)
{
	struct params p = params_from(addr, prefix, gateway_attr(net));

	return pins_fit(net, &p, err);
}

int vdc_network_check_gateway(const struct vdc_obj *net, uint32_t gw, struct vdc_err *err)
{
	struct params p = params_of(net);

	if (!p.ok)
		return 0;
	p = params_from(p.net, p.prefix, gw);
	return pins_fit(net, &p, err);
}

void vdc_network_show_vni(const struct vdc_obj *net, struct strbuf *out)
{
	const struct vdc_net *n = net->priv;

	if (n && n->vni)
		strbuf_addf(out, "%" PRIu32 "\n", n->vni);
}

void vdc_network_show_dhcp_server(const struct vdc_obj *net, struct strbuf *out)
{
	struct params p = params_of(net);
	char text[VDC_IPV4_TEXT];

	if (!p.ok)
		return;
	vdc_ipv4_format(p.server, text);
	strbuf_addf(out, "%s\n", text);
}

/* ---- the nics kind ---- */

/* Is `a` free for `nic` in network `net` of `p`? 0, or the errno and sentence. */
static int pin_check(const struct vdc_obj *nic, struct vdc_obj *net, const struct params *p, uint32_t a,
		     struct vdc_err *err)
{
	__do_strbuf struct strbuf path = STRBUF_INIT;
	char text[VDC_IPV4_TEXT], cidr[VDC_IPV4_TEXT];
	struct vdc_obj *other;
	const char *why = addr_unusable(p, a);

	vdc_ipv4_format(a, text);
	vdc_ipv4_format(p->net, cidr);
	if (why)
		return vdc_err_set(err, a == p->gw || a == p->server ? -EADDRINUSE : -EINVAL,
				   "ip %s %s of network %s; pin a host address of %s/%u other than its gateway and DHCP server, or empty ip to have one chosen",
				   text, why, net->name, cidr, p->prefix);
	other = holder(net, a, nic);
	if (other) {
		vdc_obj_path(other, &path);
		return vdc_err_set(err, -EADDRINUSE, "ip %s is in use by %s; pin a free address", text, path.buf);
	}
	return 0;
}

int vdc_nic_check_ip(const struct vdc_obj *nic, const char *v, size_t len, struct vdc_err *err)
{
	struct vdc_obj *net = nic_target(nic);
	struct params p = params_of(net);
	uint32_t a;
	int rc;

	if (!len)
		return 0;
	rc = vdc_ipv4_parse(v, len, &a, err);
	if (rc < 0 || !p.ok)
		return rc;   /* without a cidr yet, it is checked when the network gets one */
	return pin_check(nic, net, &p, a, err);
}

int vdc_nic_check_network(const struct vdc_obj *nic, const char *tname, size_t len, struct vdc_err *err)
{
	struct vdc_obj *net = vdc_obj_find(vdc_kind(VDC_KIND_NETWORKS), NULL, tname, len);
	struct params p = params_of(net);
	uint32_t pin;

	if (!p.ok || !nic_pin(nic, &pin))
		return 0;
	return pin_check(nic, net, &p, pin, err);
}

void vdc_nic_changed(struct vdc_obj *nic, unsigned attr)
{
	if (attr == VDC_NIC_MAC) {
		vdc_nic_mac_changed(nic);
		return;
	}
	if (attr == VDC_NIC_AUTO_IP) {
		if (writing_hint)
			return;
		/* A user's auto-ip: go there if it is free, unless a guest may run with the address it has. */
		nic_of(nic)->moving = !vdc_nic_in_guest(nic);
	}
	nic_refresh(nic);
	nic_of(nic)->moving = false;
	vdc_network_touched();
}

int vdc_nic_check_auto_ip(const struct vdc_obj *nic, const char *v, size_t len, struct vdc_err *err)
{
	struct vdc_obj *net = nic ? nic_target(nic) : NULL;
	struct params p = params_of(net);
	const char *why;
	uint32_t a;
	int rc;

	if (writing_hint)
		return 0;
	if (len) {
		rc = vdc_ipv4_parse(v, len, &a, err);
		if (rc < 0)
			return rc;
		if (p.ok && (why = addr_unusable(&p, a))) {
			char text[VDC_IPV4_TEXT], cidr[VDC_IPV4_TEXT];

			vdc_ipv4_format(a, text);
			vdc_ipv4_format(p.net, cidr);
			return vdc_err_set(err, a == p.gw || a == p.server ? -EADDRINUSE : -EINVAL,
					   "auto-ip %s %s of network %s; write a host address of %s/%u other than its gateway and DHCP server, or empty auto-ip to have one chosen",
					   text, why, net->name, cidr, p.prefix);
		}
	}
	return 0;
}

/*
 * Powered on, a nic goes to its auto-ip when that is free, or held
 * (automatically) by a nic of an instance powered off: a copy that never
 * ran, which then takes another (network_assign serves powered-on nics
 * first). Else it keeps what it has and writes that down, so an archive
 * of the running data center carries it.
 */
static void vdc_nic_addr_power_on(struct vdc_obj *nic)
{
	struct vdc_nic *c = nic_of(nic);
	struct vdc_obj *other;
	struct params p;
	uint32_t pin, h;

	if (!c->net || nic_pin(nic, &pin) || !nic_hint(nic, &h) || h == c->addr)
		return;
	other = holder(c->net, h, nic);
	p = params_of(c->net);
	if (p.ok && !addr_unusable(&p, h) && (!other || (!nic_pin(other, &pin) && !vdc_nic_powered_on(other)))) {
		c->moving = true;
		network_assign(c->net);
		c->moving = false;
		vdc_network_touched();
	}
	if (c->addr && c->addr != h)
		hint_write_down(c->net, &p, nic, c->addr);
}

void vdc_nics_power_on(struct vdc_obj *inst)
{
	struct vdc_map_entry *e;
	size_t b;

	for (e = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &b); e;
	     e = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], e, &b)) {
		vdc_nic_mac_power_on(e->value);
		vdc_nic_addr_power_on(e->value);
	}
}

void vdc_nic_destroyed(struct vdc_obj *nic)
{
	struct vdc_obj *net = nic_of(nic)->net;

	net_detach(nic);
	if (net)
		network_assign(net);
	vdc_network_touched();
}

void vdc_nic_live_loaded(struct vdc_obj *nic, const char *name, const char *value)
{
	uint32_t a;

	if (!strcmp(name, "ip") && vdc_ipv4_parse(value, strlen(value), &a, NULL) == 0)
		nic_of(nic)->addr = a;
	if (!strcmp(name, "mac"))
		vdc_nic_mac_loaded(nic, value);

}

void vdc_nic_release(struct vdc_obj *nic)
{
	free(nic->priv);
}

void vdc_nic_show_ip(const struct vdc_obj *nic, struct strbuf *out)
{
	const struct vdc_nic *c = nic->priv;
	char text[VDC_IPV4_TEXT];

	if (!c || !c->addr)
		return;
	vdc_ipv4_format(c->addr, text);
	strbuf_addf(out, "%s\n", text);
}

void vdc_nics_loaded(struct vdc_obj *inst)
{
	struct vdc_map_entry *e;
	size_t b;

	for (e = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &b); e;
	     e = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], e, &b)) {
		struct vdc_obj *nic = e->value, *net = nic_target(nic);

		if (net)
			net_attach(net, nic);
	}
}

/*
 * Once every object is loaded, every network's addresses are worked out:
 * the stored ones are kept, and a nic that had none (vdcfs stopped
 * between its link and its address) gets one now.
 */
void vdc_networks_all_loaded(const struct vdc_kind *networks)
{
	const struct vdc_map *all = vdc_kind_objects(networks);
	struct vdc_map_entry *e;
	size_t b;

	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b))
		network_assign(e->value);
	vdc_nics_mac_all_loaded();
}

void vdc_nics_instance_destroyed(struct vdc_obj *inst)
{
	struct vdc_map_entry *e;
	size_t b;
	bool any = false;

	for (e = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &b); e;
	     e = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], e, &b)) {
		struct vdc_obj *net = nic_of(e->value)->net;

		net_detach(e->value);
		if (net)
			network_assign(net);
		any = true;
	}
	if (any)
		vdc_network_touched();
}

/* An instance's security-groups/ folder; -1 for an object of another kind. */
static int groups_dir(const struct vdc_obj *inst)
{
	return inst->kind->id == VDC_KIND_INSTANCES ? VDC_INSTANCE_SECURITY_GROUPS : -1;
}

void vdc_network_rel_changed(struct vdc_obj *inst, unsigned dir)
{
	if ((int)dir == groups_dir(inst))
		vdc_network_touched();
}

bool vdc_instance_networked(const struct vdc_obj *inst)
{
	int g = groups_dir(inst);

	return inst->children[VDC_INSTANCE_NICS].count || (g >= 0 && inst->rel[g].n);
}

/* The instance's nic with the lowest name that has an address. */
static const struct vdc_obj *first_addressed_nic(const struct vdc_obj *inst)
{
	const struct vdc_obj *best = NULL;
	struct vdc_map_entry *e;
	size_t b;

	for (e = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &b); e;
	     e = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], e, &b)) {
		const struct vdc_obj *nic = e->value;
		const struct vdc_nic *c = nic->priv;

		if (c && c->addr && (!best || strcmp(nic->name, best->name) < 0))
			best = nic;
	}
	return best;
}

void vdc_instance_show_ip(const struct vdc_obj *inst, struct strbuf *out)
{
	const struct vdc_obj *nic = first_addressed_nic(inst);
	const struct vdc_seen *s;

	if (nic) {
		vdc_nic_show_ip(nic, out);
		return;
	}
	s = vdc_seen_of(inst);
	if (s && s->ip[0])
		strbuf_addf(out, "%s\n", s->ip);
}

/* ---- security groups ---- */

void vdc_group_changed(struct vdc_obj *group, unsigned attr)
{
	(void)group;
	(void)attr;
	vdc_network_touched();
}

void vdc_group_created(struct vdc_obj *group)
{
	(void)group;
	vdc_network_touched();
}

void vdc_group_destroyed(struct vdc_obj *group)
{
	(void)group;
	vdc_network_touched();
}

void vdc_network_touched(void)
{
	vdc_host_bump(NULL);
}

/* ---- the desired state ---- */

void vdc_nic_desired_get(const struct vdc_obj *nic, struct vdc_nic_desired *out)
{
	struct vdc_link *l = nic->attrs[VDC_NIC_NETWORK].link;
	const struct vdc_nic *c = nic->priv;

	out->id = nic->id;
	out->name = nic->name;
	vdc_nic_mac(nic, out->mac);
	out->network = l && vdc_link_target(l) ? l->tname : NULL;
	out->ip[0] = '\0';
	if (c && c->addr)
		vdc_ipv4_format(c->addr, out->ip);
}

const char **vdc_instance_groups(const struct vdc_obj *inst, size_t *n)
{
	int g = groups_dir(inst);
	const char **list = xcalloc(g >= 0 ? inst->rel[g].n + 1 : 1, sizeof(*list));
	unsigned i;

	*n = 0;
	for (i = 0; g >= 0 && i < inst->rel[g].n; i++)
		if (vdc_link_target(inst->rel[g].links[i]))
			list[(*n)++] = inst->rel[g].links[i]->tname;
	return list;
}

/* The underlay address of the host an instance is placed on, or NULL. */
static const char *underlay_of(const struct vdc_obj *inst, const char **host_name)
{
	struct vdc_place *p = vdc_place_of((struct vdc_obj *)inst);
	struct vdc_obj *host = p->host[0] ? vdc_host_find(p->host) : NULL;
	struct vdc_host *h = host ? vdc_host_of(host) : NULL;

	*host_name = p->host;
	return h && h->role == VDC_ROLE_HVA && h->underlay[0] ? h->underlay : NULL;
}

static void network_desired(struct vdc_obj *net, const struct vdc_obj *host, struct vdc_net_desired *out)
{
	struct vdc_net *n = net_of(net);
	struct params p = params_of(net);
	struct vdc_name_set seen = VDC_NAME_SET_INIT;
	uint32_t servers[VDC_DNS_MAX];
	size_t len, i, n_dns = 0;
	const char *d;
	unsigned k;

	memset(out, 0, sizeof(*out));
	out->peers = xcalloc(n->n + 1, sizeof(*out->peers));
	out->remote = xcalloc(n->n + 1, sizeof(*out->remote));
	for (k = 0; k < n->n; k++) {
		struct vdc_obj *nic = n->nics[k];
		const char *where, *under = nic->parent ? underlay_of(nic->parent, &where) : NULL;
		struct vdc_net_remote *r = &out->remote[out->nremote];

		if (!under || !strcmp(where, host->name))
			continue;
		if (vdc_name_set_add(&seen, under))
			out->peers[out->npeers++] = under;
		vdc_nic_mac(nic, r->mac);
		if (nic_of(nic)->addr)
			vdc_ipv4_format(nic_of(nic)->addr, r->ip);
		r->peer = under;
		out->nremote++;
	}
	vdc_name_set_release(&seen);
	/* The value was checked with the same parser when it was written. */
	d = vdc_attr_value(net, VDC_NETWORK_DNS, &len);
	if (vdc_dns_parse(d, len, servers, &n_dns, NULL) < 0)
		n_dns = 0;
	for (i = 0; i < n_dns; i++)
		vdc_ipv4_format(servers[i], out->dns[i]);
	out->ndns = n_dns;
	out->name = net->name;
	out->vni = n->vni;
	vdc_ipv4_format(p.net, out->cidr);
	snprintf(out->cidr + strlen(out->cidr), sizeof(out->cidr) - strlen(out->cidr), "/%u", p.prefix);
	vdc_ipv4_format(p.gw, out->gateway);
	vdc_ipv4_format(p.server, out->server);
	snprintf(out->server_mac, sizeof(out->server_mac), "52:54:01:%02x:%02x:%02x", (n->vni >> 16) & 0xff,
		 (n->vni >> 8) & 0xff, n->vni & 0xff);
	d = vdc_attr_value(net, VDC_NETWORK_DHCP, &len);
	out->dhcp = len == 2 && !memcmp(d, "on", 2);
}

/* The addresses of every nic of the instances bound to group `group` (NULL: none), into `out`. */
static void members_desired(const struct vdc_obj *group, struct vdc_group_desired *out)
{
	const struct vdc_kind *k = vdc_kind(VDC_KIND_INSTANCES);
	const struct vdc_map *all = vdc_kind_objects(k);
	struct vdc_map_entry *e, *c;
	size_t b, cb;

	for (e = vdc_map_first(all, &b); e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *inst = e->value;
		int g = groups_dir(inst);
		bool member = false;
		unsigned i;

		for (i = 0; g >= 0 && i < inst->rel[g].n && !member; i++)
			member = group && vdc_link_target(inst->rel[g].links[i]) == group;
		if (!member)
			continue;
		for (c = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &cb); c;
		     c = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], c, &cb)) {
			const struct vdc_nic *nc = ((struct vdc_obj *)c->value)->priv;

			if (!nc || !nc->addr)
				continue;
			out->members = xrealloc(out->members, (out->nmembers + 1) * sizeof(*out->members));
			vdc_ipv4_format(nc->addr, out->members[out->nmembers++]);
		}
	}
}

/* The networks and groups of instance `inst` that host `host` is told of. */
static void instance_networks(struct vdc_obj *inst, struct vdc_obj *host, struct vdc_name_set *net_names,
			      struct vdc_name_set *groups, struct vdc_network_desired *out)
{
	struct vdc_map_entry *e;
	size_t b;
	int gd;
	unsigned k;

	for (e = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &b); e;
	     e = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], e, &b)) {
		struct vdc_obj *net = nic_of(e->value)->net;

		if (net && params_of(net).ok && vdc_name_set_add(net_names, net->name)) {
			out->nets = xrealloc(out->nets, (out->nnets + 1) * sizeof(*out->nets));
			network_desired(net, host, &out->nets[out->nnets++]);
		}
	}
	gd = groups_dir(inst);
	for (k = 0; gd >= 0 && k < inst->rel[gd].n; k++)
		if (vdc_link_target(inst->rel[gd].links[k]))
			vdc_name_set_add(groups, inst->rel[gd].links[k]->tname);
}

void vdc_network_desired_get(struct vdc_obj *host, struct vdc_network_desired *out)
{
	const struct vdc_kind *gk = vdc_kind(VDC_KIND_SECURITY_GROUPS);
	const struct vdc_reldir *r = &host->rel[VDC_HOST_INSTANCES];
	struct vdc_name_set net_names = VDC_NAME_SET_INIT;
	struct vdc_name_set groups = VDC_NAME_SET_INIT;
	struct vdc_obj **moving;
	unsigned i;
	size_t g, nmoving;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < r->n; i++) {
		struct vdc_obj *inst = vdc_link_target(r->links[i]);

		if (inst && !vdc_place_of(inst)->leaving)
			instance_networks(inst, host, &net_names, &groups, out);
	}
	/* An instance migrating here live needs its networks here before it arrives. */
	moving = vdc_place_migrating(&nmoving);
	for (g = 0; g < nmoving; g++)
		if (!strcmp(vdc_place_of(moving[g])->migrate_to, host->name))
			instance_networks(moving[g], host, &net_names, &groups, out);
	free(moving);
	/* The groups that rules name as peers (sg:NAME) are sent too, for their members. */
	vdc_groups_close(&groups, NULL, NULL, 0, SIZE_MAX);
	for (g = 0; g < groups.n; g++) {
		struct vdc_obj *o = vdc_obj_find(gk, NULL, groups.v[g], strlen(groups.v[g]));
		size_t len = 0;
		const char *text = o ? vdc_attr_value(o, VDC_GROUP_RULES, &len) : "";
		struct vdc_group_desired *gr;

		out->groups = xrealloc(out->groups, (out->ngroups + 1) * sizeof(*out->groups));
		gr = &out->groups[out->ngroups++];
		memset(gr, 0, sizeof(*gr));
		snprintf(gr->name, sizeof(gr->name), "%s", groups.v[g]);
		gr->rules = text;
		gr->rules_len = len;
		members_desired(o, gr);
	}
	vdc_name_set_release(&net_names);
	vdc_name_set_release(&groups);
}

void vdc_network_desired_release(struct vdc_network_desired *d)
{
	size_t i;

	for (i = 0; i < d->nnets; i++) {
		free(d->nets[i].peers);
		free(d->nets[i].remote);
	}
	for (i = 0; i < d->ngroups; i++)
		free(d->groups[i].members);
	free(d->nets);
	free(d->groups);
	memset(d, 0, sizeof(*d));
}
