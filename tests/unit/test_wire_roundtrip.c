/*
 * Round trips of the agents' documents (docs/agent-protocol.md), the
 * proof that vdcfs and its agents share one definition of them
 * (backend/wire_doc.h):
 *
 * - the desired state of a hypervisor and of a storage host, rendered by
 *   backend/wire.c from a small model (the real kinds and store, as in
 *   test_volumes.c and test_networks.c) and parsed by the agents' own
 *   parsers, agents/hva/desired.c and agents/sta/desired.c, hold the
 *   values the kinds gave (their plain structs);
 * - a hypervisor's and a storage host's report, written by the agents'
 *   own writers (agents/hva/report_doc.c, agents/sta/report_doc.c), and
 *   a join in the shape agents/common/proto.c sends, are accepted by
 *   backend/agent_doc.c with the same values; the storage host's report
 *   is then recorded through the real path (reconcile.c).
 *
 * Links the kinds of vdcfs/, libvdc.a, agents/{hva,sta}/desired.c,
 * agents/{hva,sta}/report_doc.c and agents/common/{json_member,log}.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent_doc.h"
#include "hva/console_input.h"
#include "hva/desired.h"
#include "hva/report_doc.h"
#include "instance.h"
#include "network.h"
#include "place.h"
#include "sta/desired.h"
#include "sta/report_doc.h"
#include "unit_model.h"
#include "volume.h"
#include "wire.h"
#include "wire_doc.h"

#define DC "8d7f0a1b2c3d4e5f8d7f0a1b2c3d4e5f"
#define PORTAL "198.51.100.17:3260"
#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define IMAGE_SIZE 33554432
#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBy3bTRxD8Udjl6z6yuvLt4LIgd1+nT3MGpxMY7ku6ur me@x"
#define MIB(n) ((uint64_t)(n) << 20)

static char dir[256];

static int setup(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;

	(void)state;
	if (unit_model_setup(dir, sizeof(dir), "wire_roundtrip") < 0)
		return -1;
	return vdc_model_meta_put("dc", DC, &err) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_model_teardown(dir);
}

/* ---- the data center ---- */

static struct vdc_obj *make(const struct vdc_kind *k, struct vdc_obj *parent, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *o;

	assert_int_equal(vdc_obj_create(k, parent, name, strlen(name), 0, 0, &o, &err), 0);
	return o;
}

static unsigned reldir(const struct vdc_obj *o, const char *name)
{
	unsigned i;

	for (i = 0; i < o->kind->nreldirs; i++)
		if (!strcmp(o->kind->reldirs[i].name, name))
			return i;
	fail_msg("%s has no %s/ folder", o->kind->name, name);
	return 0;
}

/* ln -s TARGET OBJ/FOLDER/NAME */
static void rel_add(struct vdc_obj *o, const char *folder, const char *name, const char *target)
{
	struct vdc_err err = VDC_ERR_INIT;

	assert_int_equal(vdc_rel_add(o, reldir(o, folder), name, strlen(name), target, 0, &err), 0);
}

static struct vdc_obj *join(const char *name, enum vdc_host_role role)
{
	struct vdc_err err = VDC_ERR_INIT;
	char t[65];

	assert_int_equal(vdc_host_join(name, role, t, &err), 0);
	return vdc_host_find(name);
}

/* A hypervisor's capacity and no instances, as reconcile.c takes a report. */
static void hva_up(struct vdc_obj *host, const char *underlay)
{
	struct vdc_host *h = vdc_host_of(host);

	h->cpus = 8;
	h->memory = MIB(8192);
	snprintf(h->underlay, sizeof(h->underlay), "%s", underlay);
	vdc_host_report(host, NULL, 0);
}

/* The image's checksum as the agent server knows it: computed, qcow2. */
static bool image_sum(const struct vdc_obj *image, char hex[65], off_t *size, bool *qcow2)
{
	(void)image;
	memcpy(hex, SHA, sizeof(SHA));
	*size = IMAGE_SIZE;
	*qcow2 = true;
	return true;
}

/* ---- a storage host's report, by vdc-sta's writer ---- */

/* One volume's state as vdc-sta's worker sees it, and the snapshot it holds (0: none). */
struct sta_vol_seen {
	int64_t id;
	const char *state, *err;
	uint64_t size, restore, allocated;
	const char *progress;
	int64_t snap;
	const char *snap_state;
};

/* The report's text as vdc-sta writes it (agents/sta/report_doc.c), with the values of `vols`. */
static char *sta_report_text(uint64_t disk_mib, const struct sta_vol_seen *vols, size_t n)
{
	const struct sta_report_facts f = { .disk_mib = disk_mib, .driver = "tgt", .portal = PORTAL, .version = "0.1" };
	json_t *list = json_array(), *doc;
	char *text;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct sta_vol_seen *v = &vols[i];
		json_t *snaps = json_array(), *e;

		if (v->snap)
			json_array_append_new(snaps, sta_report_snapshot_json((uint64_t)v->snap, v->snap_state, ""));
		e = sta_report_volume_json((uint64_t)v->id, v->state, v->err ? v->err : "", v->size, v->restore, snaps);
		assert_int_equal(sta_report_volume_id(e), v->id);
		sta_report_volume_complete(e, v->allocated, v->progress ? v->progress : "");
		json_array_append_new(list, e);
	}
	doc = sta_report_json(1700000000000000, 7, 3, &f, list);
	assert_non_null(doc);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}

/* The report parsed by agent_doc.c and recorded as the agent server does (serve_sta_report). */
static void sta_report(struct vdc_obj *host, uint64_t disk_mib, const struct sta_vol_seen *vols, size_t n)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_sta_report r;
	struct vdc_host *h = vdc_host_of(host);
	char *text = sta_report_text(disk_mib, vols, n);

	assert_int_equal(vdc_doc_sta_report_parse(text, strlen(text), &r, &err), 0);
	free(text);
	h->disk = r.disk_mib << 20;
	snprintf(h->driver, sizeof(h->driver), "%s, vdc-sta %s", r.driver, r.version);
	snprintf(h->portal, sizeof(h->portal), "%s", r.portal);
	vdc_host_report_sta(host, r.vols, r.n);
	vdc_doc_sta_report_release(&r);
}

/* ---- comparisons ---- */

static const char *ipv4_text(uint32_t a, char out[VDC_IPV4_TEXT])
{
	if (!a)
		out[0] = 0;
	else
		vdc_ipv4_format(a, out);
	return out;
}

/* The parsed list of addresses is `want`, in its order. */
static void same_ipv4s(const uint32_t *got, size_t n, const char *const *want, size_t nwant)
{
	char t[VDC_IPV4_TEXT];
	size_t i;

	assert_int_equal(n, nwant);
	for (i = 0; i < n; i++)
		assert_string_equal(ipv4_text(got[i], t), want[i]);
}

/* The instance entry the hypervisor parsed holds what instance.c, network.c and volume.c gave. */
static void same_instance(struct vdc_obj *inst, const struct hva_instance_spec *in)
{
	struct vdc_instance_desired d;
	struct vdc_inst_vol_desired *vols;
	struct vdc_map_entry *e;
	const char **groups;
	char t[VDC_IPV4_TEXT];
	size_t i, n, b;

	vdc_instance_desired_get(inst, &d);
	assert_string_equal(in->err, "");
	assert_int_equal(in->id, d.id);
	assert_string_equal(in->name, d.name);
	assert_string_equal(in->domain, d.domain);
	assert_int_equal(in->power_on, d.power_on);
	assert_int_equal(in->cpus, d.cpus);
	assert_int_equal(in->memory_mib, d.memory_mib);
	assert_int_equal(strlen(in->hostname), d.hostname_len);
	assert_memory_equal(in->hostname, d.hostname, d.hostname_len);
	assert_int_equal(in->user_data_len, d.user_data_len);
	assert_memory_equal(in->user_data, d.user_data, d.user_data_len);
	assert_int_equal(in->n_ssh_keys, d.nkeys);
	for (i = 0; i < d.nkeys; i++) {
		assert_int_equal(strlen(in->ssh_keys[i]), d.ssh_key_lens[i]);
		assert_memory_equal(in->ssh_keys[i], d.ssh_keys[i], d.ssh_key_lens[i]);
	}
	assert_true(in->image.present);
	assert_false(in->image.pending);
	assert_string_equal(in->image.name, d.image->name);
	assert_string_equal(in->image.sha256, SHA);
	assert_int_equal(in->image.size, IMAGE_SIZE);
	assert_int_equal(in->image.format, VDC_IMAGE_FORMAT_QCOW2);
	assert_int_equal(in->reboot, d.reboot);
	assert_int_equal(in->reset, d.reset);
	vdc_instance_desired_release(&d);

	n = 0;
	for (e = vdc_map_first(&inst->children[VDC_INSTANCE_NICS], &b); e;
	     e = vdc_map_next(&inst->children[VDC_INSTANCE_NICS], e, &b), n++) {
		struct vdc_nic_desired nd;
		const struct hva_nic_spec *nic = NULL;

		vdc_nic_desired_get(e->value, &nd);
		for (i = 0; i < in->n_nics; i++)
			if (!strcmp(in->nics[i].name, nd.name))
				nic = &in->nics[i];
		assert_non_null(nic);
		assert_int_equal(nic->id, nd.id);
		assert_string_equal(nic->mac, nd.mac);
		assert_string_equal(nic->network, nd.network ? nd.network : "");
		assert_string_equal(ipv4_text(nic->ip, t), nd.ip);
	}
	assert_int_equal(in->n_nics, n);

	groups = vdc_instance_groups(inst, &n);
	assert_int_equal(in->n_groups, n);
	for (i = 0; i < n; i++)
		assert_string_equal(in->groups[i], groups[i]);
	free(groups);

	vols = vdc_instance_volumes(inst, &n);
	assert_int_equal(in->n_volumes, n);
	for (i = 0; i < n; i++) {
		const struct hva_volume_spec *v = hva_volume_find(in, (uint64_t)vols[i].id);
		char portal[HVA_PORTAL_HOST_MAX + 8];

		assert_non_null(v);
		assert_string_equal(v->name, vols[i].name);
		assert_string_equal(v->link, vols[i].link);
		snprintf(portal, sizeof(portal), "%s:%u", v->host, v->port);
		assert_string_equal(portal, vols[i].ep.portal);
		assert_string_equal(v->iqn, vols[i].ep.iqn);
		assert_int_equal(v->lun, vols[i].ep.lun);
		assert_string_equal(v->chap_user, vols[i].ep.user);
		assert_string_equal(v->chap_secret, vols[i].ep.secret);
		assert_int_equal(v->size, vols[i].ep.size);
		assert_string_equal(v->serial, vols[i].serial);
	}
	free(vols);
}

/* The networks and groups the hypervisor parsed hold what network.c gave for `host`. */
static void same_networks(struct vdc_obj *host, const struct hva_desired *got)
{
	struct vdc_network_desired d;
	char t[VDC_IPV4_TEXT], cidr[VDC_IPV4_TEXT + 4];
	size_t i, k;

	vdc_network_desired_get(host, &d);
	assert_int_equal(got->n_networks, d.nnets);
	for (i = 0; i < d.nnets; i++) {
		const struct vdc_net_desired *w = &d.nets[i];
		const struct hva_network_spec *n = hva_network_find(got, w->name);
		const char *dns[VDC_DNS_MAX];

		assert_non_null(n);
		assert_string_equal(n->err, "");
		assert_int_equal(n->vni, w->vni);
		snprintf(cidr, sizeof(cidr), "%s/%u", ipv4_text(n->net, t), n->prefix);
		assert_string_equal(cidr, w->cidr);
		assert_string_equal(ipv4_text(n->gateway, t), w->gateway);
		assert_int_equal(n->dhcp, w->dhcp);
		for (k = 0; k < w->ndns; k++)
			dns[k] = w->dns[k];
		same_ipv4s(n->dns, n->n_dns, dns, w->ndns);
		assert_string_equal(ipv4_text(n->server, t), w->server);
		assert_string_equal(n->server_mac, w->server_mac);
		same_ipv4s(n->peers, n->n_peers, w->peers, w->npeers);
		assert_int_equal(n->n_remote, w->nremote);
		for (k = 0; k < w->nremote; k++) {
			assert_string_equal(n->remote[k].mac, w->remote[k].mac);
			assert_string_equal(ipv4_text(n->remote[k].ip, t), w->remote[k].ip);
			assert_string_equal(ipv4_text(n->remote[k].peer, t), w->remote[k].peer);
		}
	}
	assert_int_equal(got->n_groups, d.ngroups);
	for (i = 0; i < d.ngroups; i++) {
		const struct vdc_group_desired *w = &d.groups[i];
		const struct hva_group_spec *g = hva_group_find(got, w->name);
		struct vdc_rule *rules = xcalloc(VDC_RULES_MAX, sizeof(*rules));
		struct vdc_err err = VDC_ERR_INIT;
		size_t nrules = 0;

		assert_non_null(g);
		assert_string_equal(g->err, "");
		if (w->rules_len)
			assert_int_equal(vdc_rules_parse(w->rules, w->rules_len, rules, &nrules, &err), 0);
		assert_int_equal(g->n_rules, nrules);
		if (nrules)
			assert_memory_equal(g->rules, rules, nrules * sizeof(*rules));
		free(rules);
		assert_int_equal(g->n_members, w->nmembers);
		for (k = 0; k < w->nmembers; k++)
			assert_string_equal(ipv4_text(g->members[k], t), w->members[k]);
	}
	vdc_network_desired_release(&d);
}

/* The volumes the storage host parsed hold what volume.c gave for `host`. */
static void same_sta_volumes(struct vdc_obj *host, const struct sta_desired *got)
{
	struct vdc_sta_vol_desired *vols;
	size_t i, k, n;

	vols = vdc_sta_volumes_get(host, &n);
	assert_int_equal(got->n, n);
	for (i = 0; i < n; i++) {
		const struct vdc_sta_vol_desired *w = &vols[i];
		const struct sta_volume_spec *v = sta_desired_volume(got, (uint64_t)w->id);

		assert_non_null(v);
		assert_string_equal(v->err, "");
		assert_string_equal(v->name, w->name);
		assert_string_equal(v->iqn, w->iqn);
		assert_int_equal(v->size, w->size);
		assert_string_equal(v->chap_user, w->chap_user);
		assert_string_equal(v->chap_secret, w->chap_secret);
		assert_int_equal(v->n_initiators, w->ninitiators);
		for (k = 0; k < w->ninitiators; k++)
			assert_string_equal(v->initiators[k], w->initiators[k]);
		assert_int_equal(v->n_snapshots, w->nsnaps);
		for (k = 0; k < w->nsnaps; k++) {
			assert_int_equal(v->snapshots[k].id, w->snaps[k].id);
			assert_string_equal(v->snapshots[k].name, w->snaps[k].name);
		}
		assert_int_equal(v->restore, w->restore_n != 0);
		assert_int_equal(v->restore_n, w->restore_n);
		if (w->restore_n) {
			assert_int_equal(v->restore_snapshot, w->restore_snap);
			assert_int_equal(v->restore_volume, w->restore_vol);
		}
	}
	vdc_sta_volumes_release(vols, n);
}

/* ---- the data center both tests build ---- */

struct dc {
	struct vdc_obj *ha, *hb, *s1, *web, *peer, *vol, *snap;
};

/*
 * Two hypervisors and a storage host, all up; a network with DNS and a
 * security group whose rules name it and another group; an image, an
 * ssh key; instance web1 powered on ha with every attribute set, a nic
 * on the network, in the group, with volume v1 attached (available on
 * s1, with a snapshot); instance peer placed on hb on the same network
 * and group.
 */
static void build(struct dc *dc)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *net, *grp, *key, *nic;
	struct sta_vol_seen seen[1];

	dc->ha = join("ha", VDC_ROLE_HVA);
	dc->hb = join("hb", VDC_ROLE_HVA);
	dc->s1 = join("s1", VDC_ROLE_STA);
	hva_up(dc->ha, "198.51.100.18");
	sta_report(dc->s1, 10240, NULL, 0);

	net = make(&vdc_kind_networks, NULL, "net1");
	unit_set(net, "cidr", "192.0.2.0/24");
	unit_set(net, "dns", "192.0.2.53");
	grp = make(&vdc_kind_security_groups, NULL, "web");
	unit_set(grp, "rules", "in tcp 22 sg:web\nin tcp 5432 sg:db\nin udp 53 192.0.2.0/24\n");
	make(&vdc_kind_images, NULL, "tiny");
	key = make(&vdc_kind_ssh_keys, NULL, "me");
	unit_set(key, "public-key", KEY);

	dc->web = make(&vdc_kind_instances, NULL, "web1");
	assert_int_equal(vdc_link_set(dc->web, (unsigned)unit_attr(dc->web, "image"), "tiny", 0, &err), 0);
	unit_set(dc->web, "cpus", "2");
	unit_set(dc->web, "memory", "256M");
	unit_set(dc->web, "hostname", "www");
	unit_set(dc->web, "user-data", "#!/bin/sh\necho \"hello\" > /tmp/x\n");
	rel_add(dc->web, "ssh-keys", "me", "me");
	rel_add(dc->web, "security-groups", "web", "web");
	nic = make(&vdc_kind_nics, dc->web, "eth0");
	assert_int_equal(vdc_link_set(nic, (unsigned)unit_attr(nic, "network"), "net1", 0, &err), 0);
	unit_set(dc->web, "power", "on");
	assert_string_equal(vdc_place_of(dc->web)->host, "ha");

	hva_up(dc->hb, "198.51.100.19");
	dc->peer = make(&vdc_kind_instances, NULL, "peer");
	nic = make(&vdc_kind_nics, dc->peer, "eth0");
	assert_int_equal(vdc_link_set(nic, (unsigned)unit_attr(nic, "network"), "net1", 0, &err), 0);
	rel_add(dc->peer, "security-groups", "web", "web");
	assert_int_equal(vdc_place_set(dc->peer, "hb", &err), 0);

	dc->vol = make(&vdc_kind_volumes, NULL, "v1");
	unit_set(dc->vol, "size", "64M");
	dc->snap = make(&vdc_kind_snapshots, dc->vol, "s0");
	seen[0] = (struct sta_vol_seen){ .id = dc->vol->id, .state = VDC_WIRE_VOL_AVAILABLE, .size = MIB(64),
					 .allocated = MIB(1), .snap = dc->snap->id,
					 .snap_state = VDC_WIRE_VOL_AVAILABLE };
	sta_report(dc->s1, 10240, seen, 1);
	assert_string_equal(dc->vol->state, "available");
	rel_add(dc->web, "volumes", "data", "v1");
}

/* ---- tests ---- */

/* What backend/wire.c renders for a hypervisor, vdc-hva's parser reads as the kinds gave it. */
static void test_hva_desired(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct hva_desired got;
	struct dc dc;
	char initiator[VDC_IQN_MAX];
	char *text;

	(void)state;
	build(&dc);
	text = vdc_wire_desired(dc.ha, image_sum);
	assert_non_null(text);
	assert_int_equal(hva_desired_parse(text, strlen(text), &got, &err), 0);
	assert_int_equal(got.rev, vdc_host_of(dc.ha)->rev);
	assert_string_equal(got.dc, DC);
	assert_int_equal(got.heartbeat, vdc_hosts_heartbeat());
	vdc_initiator_iqn("ha", initiator, sizeof(initiator));
	assert_string_equal(got.initiator, initiator);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.inst[0].id, dc.web->id);
	same_instance(dc.web, &got.inst[0]);
	assert_int_equal(got.inst[0].n_volumes, 1);
	assert_int_equal(got.inst[0].n_nics, 1);
	assert_int_equal(got.inst[0].n_ssh_keys, 1);
	assert_int_equal(got.inst[0].n_groups, 1);
	same_networks(dc.ha, &got);
	assert_int_equal(got.n_networks, 1);
	assert_int_equal(got.networks[0].n_remote, 1);
	assert_int_equal(got.n_groups, 2);     /* web, and db which its rules name */
	hva_desired_release(&got);
	free(text);

	/* The other hypervisor: the instance powered off, no image. */
	text = vdc_wire_desired(dc.hb, image_sum);
	assert_int_equal(hva_desired_parse(text, strlen(text), &got, &err), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.inst[0].id, dc.peer->id);
	assert_false(got.inst[0].power_on);
	assert_false(got.inst[0].image.present);
	assert_string_equal(got.inst[0].hostname, "peer");
	same_networks(dc.hb, &got);
	hva_desired_release(&got);
	free(text);
}

/* What backend/wire.c renders for a storage host, vdc-sta's parser reads as volume.c gave it. */
static void test_sta_desired(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct sta_desired got;
	struct dc dc;
	char *text;

	(void)state;
	build(&dc);
	text = vdc_wire_desired(dc.s1, image_sum);
	assert_non_null(text);
	assert_int_equal(sta_desired_parse(text, strlen(text), &got, &err), 0);
	assert_int_equal(got.rev, vdc_host_of(dc.s1)->rev);
	assert_string_equal(got.dc, DC);
	assert_int_equal(got.heartbeat, vdc_hosts_heartbeat());
	assert_int_equal(got.n, 1);
	same_sta_volumes(dc.s1, &got);
	assert_int_equal(got.vol[0].n_initiators, 2);   /* vdcfs's own and ha's */
	assert_int_equal(got.vol[0].n_snapshots, 1);
	assert_false(got.vol[0].restore);
	sta_desired_release(&got);
	free(text);

	/* Detached and rolled back: a restore asked for. */
	assert_int_equal(vdc_rel_remove(dc.web, reldir(dc.web, "volumes"),
					vdc_rel_find(dc.web, reldir(dc.web, "volumes"), "data", 4), &err), 0);
	assert_int_equal(vdc_volume_verb_rollback(dc.vol, "s0", 2, &err), 0);
	text = vdc_wire_desired(dc.s1, image_sum);
	assert_int_equal(sta_desired_parse(text, strlen(text), &got, &err), 0);
	same_sta_volumes(dc.s1, &got);
	assert_int_equal(got.vol[0].n_initiators, 1);
	assert_true(got.vol[0].restore);
	assert_int_equal(got.vol[0].restore_n, 1);
	assert_int_equal(got.vol[0].restore_snapshot, dc.snap->id);
	assert_int_equal(got.vol[0].restore_volume, 0);
	sta_desired_release(&got);
	free(text);

	/* A clone of v1 into v2 (cp of data): restore {n, volume}. */
	{
		struct sta_vol_seen seen[2] = {
			{ .id = dc.vol->id, .state = VDC_WIRE_VOL_AVAILABLE, .size = MIB(64), .restore = 1 },
		};
		struct vdc_obj *v2 = make(&vdc_kind_volumes, NULL, "v2");
		const struct sta_volume_spec *sv;
		uint64_t ticket[2];

		unit_set(v2, "size", "64M");
		seen[1] = (struct sta_vol_seen){ .id = v2->id, .state = VDC_WIRE_VOL_AVAILABLE, .size = MIB(64) };
		sta_report(dc.s1, 10240, seen, 2);
		assert_int_equal(vdc_volume_block.clone(v2, dc.vol, ticket, &err), 0);
		text = vdc_wire_desired(dc.s1, image_sum);
		assert_int_equal(sta_desired_parse(text, strlen(text), &got, &err), 0);
		same_sta_volumes(dc.s1, &got);
		sv = sta_desired_volume(&got, (uint64_t)v2->id);
		assert_non_null(sv);
		assert_string_equal(sv->err, "");
		assert_true(sv->restore);
		assert_int_equal(sv->restore_n, 1);
		assert_int_equal(sv->restore_volume, dc.vol->id);
		assert_int_equal(sv->restore_snapshot, 0);
		sta_desired_release(&got);
		free(text);
	}
}

/* A hypervisor's report as vdc-hva writes it (agents/hva/report_doc.c) is read by agent_doc.c as written. */
static void test_hva_report(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_hva_report r;
	const struct hva_report_facts facts = {
		.cpus = 16, .memory_mib = 65536, .driver = "qemu", .virt = "kvm", .libvirt = "10.0.0",
		.version = "0.1", .underlay = "198.51.100.18",
	};
	json_t *vols = json_array(), *insts = json_array(), *doc;
	char *text;

	const struct hva_report_usage usage = {
		.cpu = 19950, .cpu_time_ns = 123456789012, .memory_kib = 200704, .disk_read = 4096,
		.disk_written = 1 << 20, .net_received = 5000, .net_sent = INT64_MAX, .uptime = 3600,
	}, partial = { -1, -1, -1, -1, -1, -1, -1, 7 };
	const int64_t load[3] = { 52, 58, 159 };
	json_t *inst;

	(void)state;
	json_array_append_new(vols, hva_report_volume_json(31, VDC_WIRE_ATTACH_ATTACHED, ""));
	json_array_append_new(vols, hva_report_volume_json(32, VDC_WIRE_STATE_ERROR, "no such LUN"));
	inst = hva_report_instance_json(12, "vdc-12", VDC_WIRE_INST_RUNNING, "", 2, 1, vols);
	hva_report_instance_usage(inst, &usage);
	json_array_append_new(insts, inst);
	json_array_append_new(insts, hva_report_instance_json(13, "vdc-13", VDC_WIRE_STATE_ERROR,
							      "cannot start: no memory", 0, 0, json_array()));
	inst = hva_report_instance_json(14, "vdc-14", VDC_WIRE_INST_RUNNING, "", 0, 0, json_array());
	hva_report_instance_usage(inst, &partial);
	json_array_append_new(insts, inst);
	doc = hva_report_json(1700000000000000, 9, 4, &facts, insts);
	hva_report_host_usage(doc, 4321, load);
	assert_non_null(doc);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);

	assert_int_equal(vdc_doc_hva_report_parse(text, strlen(text), &r, &err), 0);
	assert_int_equal(r.epoch, 1700000000000000);
	assert_int_equal(r.seq, 9);
	assert_int_equal(r.cpus, 16);
	assert_int_equal(r.memory_mib, 65536);
	assert_string_equal(r.driver, "qemu");
	assert_string_equal(r.virt, "kvm");
	assert_string_equal(r.libvirt, "10.0.0");
	assert_string_equal(r.version, "0.1");
	assert_string_equal(r.underlay, "198.51.100.18");
	assert_int_equal(r.n, 3);
	assert_int_equal(r.cpu, 4321);
	assert_int_equal(r.load[0], 52);
	assert_int_equal(r.load[1], 58);
	assert_int_equal(r.load[2], 159);
	assert_int_equal(r.insts[0].usage.cpu, usage.cpu);
	assert_int_equal(r.insts[0].usage.cpu_time_ns, usage.cpu_time_ns);
	assert_int_equal(r.insts[0].usage.memory_kib, usage.memory_kib);
	assert_int_equal(r.insts[0].usage.disk_read, usage.disk_read);
	assert_int_equal(r.insts[0].usage.disk_written, usage.disk_written);
	assert_int_equal(r.insts[0].usage.net_received, usage.net_received);
	assert_int_equal(r.insts[0].usage.net_sent, usage.net_sent);
	assert_int_equal(r.insts[0].usage.uptime, usage.uptime);
	assert_int_equal(r.insts[1].usage.cpu, -1);
	assert_int_equal(r.insts[1].usage.uptime, -1);
	assert_int_equal(r.insts[2].usage.cpu, -1);
	assert_int_equal(r.insts[2].usage.net_sent, -1);
	assert_int_equal(r.insts[2].usage.uptime, 7);
	assert_int_equal(r.insts[0].id, 12);
	assert_string_equal(r.insts[0].state, VDC_WIRE_INST_RUNNING);
	assert_string_equal(r.insts[0].err, "");
	assert_string_equal(r.insts[0].ip, "");
	assert_int_equal(r.insts[0].reboot, 2);
	assert_int_equal(r.insts[0].reset, 1);
	assert_int_equal(r.insts[0].nvols, 2);
	assert_int_equal(r.insts[0].vols[0].id, 31);
	assert_string_equal(r.insts[0].vols[0].state, VDC_WIRE_ATTACH_ATTACHED);
	assert_int_equal(r.insts[0].vols[1].id, 32);
	assert_string_equal(r.insts[0].vols[1].state, VDC_WIRE_STATE_ERROR);
	assert_string_equal(r.insts[0].vols[1].err, "no such LUN");
	assert_int_equal(r.insts[1].id, 13);
	assert_string_equal(r.insts[1].state, VDC_WIRE_STATE_ERROR);
	assert_string_equal(r.insts[1].err, "cannot start: no memory");
	assert_int_equal(r.insts[1].nvols, 0);
	vdc_doc_hva_report_release(&r);
	free(text);
}

/* A storage host's report as vdc-sta writes it is read by agent_doc.c as written, and recorded. */
static void test_sta_report(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_sta_report r;
	struct sta_vol_seen seen[2];
	struct dc dc;
	char *text;

	(void)state;
	build(&dc);
	seen[0] = (struct sta_vol_seen){ .id = dc.vol->id, .state = VDC_WIRE_VOL_AVAILABLE, .size = MIB(64),
					 .restore = 1, .allocated = MIB(3), .progress = "restoring: 40%",
					 .snap = dc.snap->id, .snap_state = VDC_WIRE_VOL_CREATING };
	seen[1] = (struct sta_vol_seen){ .id = 999, .state = VDC_WIRE_STATE_ERROR, .err = "tgtadm failed" };
	text = sta_report_text(2048, seen, 2);
	assert_int_equal(vdc_doc_sta_report_parse(text, strlen(text), &r, &err), 0);
	free(text);
	assert_int_equal(r.epoch, 1700000000000000);
	assert_int_equal(r.seq, 7);
	assert_int_equal(r.disk_mib, 2048);
	assert_string_equal(r.driver, "tgt");
	assert_string_equal(r.version, "0.1");
	assert_string_equal(r.portal, PORTAL);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.vols[0].id, dc.vol->id);
	assert_string_equal(r.vols[0].state, VDC_WIRE_VOL_AVAILABLE);
	assert_int_equal(r.vols[0].size, MIB(64));
	assert_int_equal(r.vols[0].allocated, MIB(3));
	assert_int_equal(r.vols[0].restore, 1);
	assert_string_equal(r.vols[0].progress, "restoring: 40%");
	assert_int_equal(r.vols[0].nsnaps, 1);
	assert_int_equal(r.vols[0].snaps[0].id, dc.snap->id);
	assert_string_equal(r.vols[0].snaps[0].state, VDC_WIRE_VOL_CREATING);
	assert_int_equal(r.vols[1].id, 999);
	assert_string_equal(r.vols[1].state, VDC_WIRE_STATE_ERROR);
	assert_string_equal(r.vols[1].err, "tgtadm failed");
	assert_int_equal(r.vols[1].nsnaps, 0);

	/* Recorded as the agent server records it: the volume stays available, its snapshot is creating. */
	vdc_host_report_sta(dc.s1, r.vols, r.n);
	assert_string_equal(dc.vol->state, "available");
	assert_string_equal(dc.snap->state, "creating");
	vdc_doc_sta_report_release(&r);
}

/* The join as agents/common/proto.c sends it, and the answers it reads. */
/* Console input: rendered by wire.c from what vdcfs queued, read by vdc-hva byte for byte. */
static void test_console_input(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	static char all[256];
	struct vdc_console_input in[2] = {
		{ 12, (char *)"ls\r", 3 },
		{ 345, all, sizeof(all) },
	};
	struct hva_keys *k;
	json_error_t je;
	json_t *doc;
	size_t n, i;
	char *text;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	text = vdc_wire_console_input(in, 2);
	doc = json_loads(text, 0, &je);
	assert_non_null(doc);
	assert_int_equal(hva_console_input_parse(doc, &k, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(k[0].id, 12);
	assert_int_equal(k[0].len, 3);
	assert_memory_equal(k[0].buf, "ls\r", 3);
	assert_int_equal(k[1].id, 345);
	assert_int_equal(k[1].len, sizeof(all));
	assert_memory_equal(k[1].buf, all, sizeof(all));
	hva_keys_free(k, n);
	json_decref(doc);
	free(text);
	text = vdc_wire_console_input(NULL, 0);
	doc = json_loads(text, 0, &je);
	assert_int_equal(hva_console_input_parse(doc, &k, &n, &err), 0);
	assert_int_equal(n, 0);
	json_decref(doc);
	free(text);
}

static void test_join_and_answers(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_join j;
	json_t *doc;
	char *text;

	(void)state;
	doc = json_pack("{s:s, s:s, s:s}", VDC_WIRE_NAME, "s1", VDC_WIRE_TOKEN, "4f1c", VDC_WIRE_KIND,
			VDC_WIRE_KIND_STA);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	assert_int_equal(vdc_doc_join_parse(text, strlen(text), &j, &err), 0);
	assert_string_equal(j.name, "s1");
	assert_string_equal(j.token, "4f1c");
	assert_true(j.sta);
	free(text);

	text = vdc_wire_joined("s1", "beef");
	doc = json_loads(text, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, VDC_WIRE_NAME)), "s1");
	assert_string_equal(json_string_value(json_object_get(doc, VDC_WIRE_TOKEN)), "beef");
	json_decref(doc);
	free(text);
	text = vdc_wire_error("no such host");
	doc = json_loads(text, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(doc, VDC_WIRE_ERROR)), "no such host");
	json_decref(doc);
	free(text);
	text = vdc_wire_have(4096);
	doc = json_loads(text, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(doc, VDC_WIRE_HAVE)), 4096);
	json_decref(doc);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hva_desired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sta_desired, setup, teardown),
		cmocka_unit_test(test_hva_report),
		cmocka_unit_test_setup_teardown(test_sta_report, setup, teardown),
		cmocka_unit_test(test_join_and_answers),
		cmocka_unit_test(test_console_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
