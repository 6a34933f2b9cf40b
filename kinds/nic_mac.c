/*
 * The MAC of every nic (docs/networks.md, "MACs and addresses that move
 * with the tree"), apart from network.c's addresses: network.c calls it,
 * it calls nothing of network.c.
 *
 * A nic has two MACs: the one it wants, its attribute `mac` (written
 * down when the nic is made, so `tar`, `cp -r` and `rsync` carry it), and
 * the one it has (`run/mac`, what hypervisors are told; persisted as the
 * live value "mac"). It has the one it wants unless another nic of the
 * data center has that: then it keeps a MAC of its own (chosen like a new
 * nic's) and run/err says why. So a data center restored from an archive
 * into a fresh mount keeps every MAC, and a copy in the same data center
 * (cp -r) works and never shares one. A nic that waits for its MAC takes
 * it when its instance is powered on next (never under a running guest,
 * which keeps the MAC it booted with until then: a server powered on but
 * not placed on a host yet has none).
 */
#include <inttypes.h>
#include <string.h>

#include "host.h"
#include "instance.h"
#include "network.h"
#include "place.h"

#define MAC_ERR "mac "
/* vdcfs's own MACs: nics in 52:54:00:*, networks' bridges in 52:54:01:* (network.c). */
#define MAC_NICS 0x525400000000ULL
#define MAC_BRIDGES 0x525401000000ULL
#define MAC_LOW 0xffffffULL

/* Set while vdcfs writes a nic's `mac` down itself: no change then is a user's. */
static bool writing_down;

static struct vdc_nic *mac_of(struct vdc_obj *nic)
{
	if (!nic->priv)
		nic->priv = xcalloc(1, sizeof(struct vdc_nic));
	return nic->priv;
}

/* The MAC a nic made before MACs were written down has: from its id. */
static uint64_t mac_from_id(const struct vdc_obj *nic)
{
	return MAC_NICS | ((uint64_t)nic->id & MAC_LOW);
}

/* What a nic has: its settled MAC, or (not settled yet) the one from its id. */
static uint64_t mac_has(const struct vdc_obj *nic)
{
	const struct vdc_nic *c = nic->priv;

	return c && c->mac ? c->mac : mac_from_id(nic);
}

/* What a nic wants: its `mac`, 0 when empty. Checked with the same parser when written. */
static uint64_t mac_wants(const struct vdc_obj *nic)
{
	size_t len;
	const char *v = vdc_attr_value(nic, VDC_NIC_MAC, &len);
	uint64_t m = 0;

	if (!len || vdc_mac_parse(v, len, &m, NULL) < 0)
		return 0;
	return m;
}

/* Call `fn` on every nic of every instance until it returns true; that nic, or NULL. */
static struct vdc_obj *nic_find(bool (*fn)(struct vdc_obj *nic, const void *arg), const void *arg)
{
	const struct vdc_kind *k = vdc_kind(VDC_KIND_INSTANCES);
	const struct vdc_map *all = k ? vdc_kind_objects(k) : NULL;
	struct vdc_map_entry *e, *c;
	size_t b, cb;

	for (e = all ? vdc_map_first(all, &b) : NULL; e; e = vdc_map_next(all, e, &b)) {
		struct vdc_obj *inst = e->value;

		for (c = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &cb); c;
		     c = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], c, &cb))
			if (fn(c->value, arg))
				return c->value;
	}
	return NULL;
}

struct held {
	uint64_t mac;
	const struct vdc_obj *except;
};

static bool has_mac(struct vdc_obj *nic, const void *arg)
{
	const struct held *h = arg;

	return nic != h->except && mac_has(nic) == h->mac;
}

/* The nic other than `except` that has `mac`, or NULL. */
static struct vdc_obj *mac_holder(uint64_t mac, const struct vdc_obj *except)
{
	struct held h = { mac, except };

	return nic_find(has_mac, &h);
}

static bool note_used(struct vdc_obj *nic, const void *arg)
{
	struct vdc_imap *used = (struct vdc_imap *)arg;
	uint64_t w = mac_wants(nic);

	vdc_imap_put(used, mac_has(nic), nic);
	if (w)
		vdc_imap_put(used, w, nic);
	return false;
}

/*
 * A MAC for `nic` that no other nic has or wants, nor `avoid`: the one
 * from its id when free, else the next free one of 52:54:00:*.
 */
static uint64_t mac_fresh(struct vdc_obj *nic, uint64_t avoid)
{
	struct vdc_imap used;
	uint64_t low = (uint64_t)nic->id & MAC_LOW, i, m = 0;

	vdc_imap_init(&used);
	nic_find(note_used, &used);
	for (i = 0; i <= MAC_LOW && !m; i++) {
		uint64_t c = MAC_NICS | ((low + i) & MAC_LOW);
		void *who = vdc_imap_get(&used, c);

		if (c != avoid && (!who || who == nic))
			m = c;
	}
	vdc_imap_clear(&used);
	return m;
}

/* `nic` has `mac` from now on, persisted and said. */
static void mac_take(struct vdc_obj *nic, uint64_t mac)
{
	struct vdc_nic *c = mac_of(nic);
	struct vdc_err err = VDC_ERR_INIT;
	char text[VDC_MAC_TEXT];

	if (c->mac == mac)
		return;
	vdc_mac_format(mac, text);
	if (vdc_obj_live_put(nic, "mac", text, &err) < 0)
		vdc_event(nic, "warning: %s", err.msg);
	c->mac = mac;
	vdc_event(nic, "MAC %s", text);
	vdc_obj_live_changed(nic);
	vdc_host_bump(NULL);   /* what vdc_network_touched() does: every host's desired state moves on */
}

static void mac_err_clear(struct vdc_obj *nic)
{
	if (nic->err && !strncmp(nic->err, MAC_ERR, strlen(MAC_ERR)))
		vdc_obj_set_err(nic, NULL);
}

/* Why a MAC is settled: the behaviour differs only in what may move. */
enum settle {
	SETTLE_WRITE,           /* made, or its mac written: it may move unless a guest may run with it */
	SETTLE_POWER_ON,        /* its instance is powered on: may move, and takes its MAC back */
	SETTLE_LOAD,            /* vdcfs started: it keeps what it has */
};

static void mac_write_down(struct vdc_obj *nic, uint64_t mac)
{
	struct vdc_err err = VDC_ERR_INIT;
	char text[VDC_MAC_TEXT];

	vdc_mac_format(mac, text);
	writing_down = true;
	if (vdc_attr_set(nic, VDC_NIC_MAC, text, strlen(text), &err) < 0)
		vdc_event(nic, "warning: %s", err.msg);
	writing_down = false;
}

/*
 * Settle what `nic` has from what it wants: the MAC it wants when no
 * other nic has it, or at its power on when the one that has it is of an
 * instance powered off (a copy that never ran: that one takes another).
 * While its instance is powered on and placed on a host a guest may run
 * with the MAC it has (vdc_nic_in_guest), so a write moves it only at
 * the next power on. When another nic has
 * the wanted one, the nic keeps a MAC of its own; powered on, that one is
 * written down, so an archive of the running data center carries it.
 */
static void mac_settle(struct vdc_obj *nic, enum settle how)
{
	struct vdc_nic *c = mac_of(nic);
	uint64_t want = mac_wants(nic);
	struct vdc_obj *other = want ? mac_holder(want, nic) : NULL;
	bool on = vdc_nic_powered_on(nic);
	bool may_move = how == SETTLE_POWER_ON || (how == SETTLE_WRITE && !vdc_nic_in_guest(nic));
	char w[VDC_MAC_TEXT], h[VDC_MAC_TEXT], msg[VDC_ERR_MSG_MAX];
	__do_strbuf struct strbuf path = STRBUF_INIT;

	if (other && how == SETTLE_POWER_ON && !vdc_nic_powered_on(other)) {
		mac_take(nic, want);
		mac_settle(other, SETTLE_WRITE);
		other = NULL;
	}
	if (want && !other) {
		if (may_move || !c->mac)
			mac_take(nic, want);
		if (c->mac == want) {
			mac_err_clear(nic);
			return;
		}
		vdc_mac_format(want, w);
		vdc_mac_format(c->mac, h);
		snprintf(msg, sizeof(msg), MAC_ERR "%s is this nic's when instance %s is next powered on; its guest has %s",
			 w, nic->parent ? nic->parent->name : "", h);
		if (!nic->err || strcmp(nic->err, msg))
			vdc_obj_set_err(nic, msg);
		return;
	}
	if (!c->mac || mac_holder(c->mac, nic))
		mac_take(nic, mac_fresh(nic, want));
	if (want) {
		vdc_obj_path(other, &path);
		vdc_mac_format(want, w);
		vdc_mac_format(c->mac, h);
		if (!on) {
			/* Off: a copy reads as its original until it may have the MAC. */
			snprintf(msg, sizeof(msg), MAC_ERR "%s is in use by %s; this nic has %s until it is free when its instance is powered on",
				 w, path.buf, h);
			if (!nic->err || strcmp(nic->err, msg))
				vdc_obj_set_err(nic, msg);
			return;
		}
		vdc_event(nic, "mac %s is in use by %s, whose instance is powered on: this nic keeps %s", w, path.buf, h);
	}
	mac_err_clear(nic);
	/* Written down, so an archive of the tree carries it. */
	mac_write_down(nic, c->mac);
}

int vdc_nic_check_mac(const struct vdc_obj *nic, const char *v, size_t len, struct vdc_err *err)
{
	uint64_t m;
	int rc;

	(void)nic;
	if (writing_down)
		return 0;
	if (len) {
		rc = vdc_mac_parse(v, len, &m, err);
		if (rc < 0)
			return rc;
		if ((m & ~MAC_LOW) == MAC_BRIDGES)
			return vdc_err_set(err, -EINVAL, "mac %.*s is in 52:54:01:*, the MACs vdcfs gives networks' bridges; write another",
					   (int)len, v);
	}
	return 0;
}

void vdc_nic_mac_changed(struct vdc_obj *nic)
{
	if (!writing_down)
		mac_settle(nic, SETTLE_WRITE);
}

void vdc_nic_created(struct vdc_obj *nic)
{
	mac_settle(nic, SETTLE_WRITE);
}

void vdc_nic_mac_loaded(struct vdc_obj *nic, const char *value)
{
	uint64_t m;

	if (vdc_mac_parse(value, strlen(value), &m, NULL) == 0)
		mac_of(nic)->mac = m;
}

static bool settle_loaded(struct vdc_obj *nic, const void *arg)
{
	(void)arg;
	/* A nic made before MACs were written down keeps the one from its id, and writes it down. */
	if (!mac_of(nic)->mac)
		mac_take(nic, mac_from_id(nic));
	if (!mac_wants(nic))
		mac_settle(nic, SETTLE_LOAD);
	return false;
}

void vdc_nics_mac_all_loaded(void)
{
	nic_find(settle_loaded, NULL);
}

void vdc_nic_mac_power_on(struct vdc_obj *nic)
{
	mac_settle(nic, SETTLE_POWER_ON);
}

bool vdc_nic_powered_on(const struct vdc_obj *nic)
{
	size_t len;
	const char *v = nic->parent ? vdc_attr_value(nic->parent, VDC_INSTANCE_POWER, &len) : "";

	return nic->parent && len == 2 && !memcmp(v, "on", 2);
}

bool vdc_nic_in_guest(const struct vdc_obj *nic)
{
	return vdc_nic_powered_on(nic) && vdc_place_of(nic->parent)->host[0];
}

void vdc_nic_mac(const struct vdc_obj *nic, char out[18])
{
	vdc_mac_format(mac_has(nic), out);
}

void vdc_nic_show_mac(const struct vdc_obj *nic, struct strbuf *out)
{
	char mac[VDC_MAC_TEXT];

	vdc_nic_mac(nic, mac);
	strbuf_addf(out, "%s\n", mac);
}
