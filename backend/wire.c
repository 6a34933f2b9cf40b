/*
 * The wire format of the agents' documents (wire.h has the contract):
 * JSON built from the plain structs the kinds give. The documents agents
 * send are parsed and checked into plain structs in agent_doc.c.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "host.h"
#include "instance.h"
#include "migrate.h"
#include "network.h"
#include "place.h"
#include "volume.h"
#include "wire.h"
#include "wire_doc.h"

/* A document as the agent server sends it (compact), released; NULL stays NULL. */
static char *dump(json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);

	json_decref(doc);
	return text;
}

/* ---- the desired state: networks (network.c's part) ---- */

json_t *vdc_nic_json(const struct vdc_obj *nic)
{
	struct vdc_nic_desired d;

	vdc_nic_desired_get(nic, &d);
	return json_pack("{s:I, s:s, s:s, s:s?, s:s?}", VDC_WIRE_ID, (json_int_t)d.id, VDC_WIRE_NAME, d.name,
			 VDC_WIRE_MAC, d.mac, VDC_WIRE_NETWORK, d.network, VDC_WIRE_IP, d.ip[0] ? d.ip : NULL);
}

json_t *vdc_instance_groups_json(const struct vdc_obj *inst)
{
	json_t *list = json_array();
	size_t i, n;
	const char **names = vdc_instance_groups(inst, &n);

	for (i = 0; i < n; i++)
		json_array_append_new(list, json_string(names[i]));
	free(names);
	return list;
}

static json_t *network_json(const struct vdc_net_desired *d)
{
	json_t *peers = json_array(), *remote = json_array(), *dns = json_array();
	size_t i;

	for (i = 0; i < d->npeers; i++)
		json_array_append_new(peers, json_string(d->peers[i]));
	for (i = 0; i < d->nremote; i++)
		json_array_append_new(remote, json_pack("{s:s, s:s?, s:s}", VDC_WIRE_MAC, d->remote[i].mac,
							VDC_WIRE_IP, d->remote[i].ip[0] ? d->remote[i].ip : NULL,
							VDC_WIRE_PEER, d->remote[i].peer));
	for (i = 0; i < d->ndns; i++)
		json_array_append_new(dns, json_string(d->dns[i]));
	return json_pack("{s:s, s:I, s:s, s:s, s:b, s:o, s:s, s:s, s:o, s:o}",
			 VDC_WIRE_NAME, d->name, VDC_WIRE_VNI, (json_int_t)d->vni, VDC_WIRE_CIDR, d->cidr,
			 VDC_WIRE_GATEWAY, d->gateway, VDC_WIRE_DHCP, d->dhcp, VDC_WIRE_DNS, dns,
			 VDC_WIRE_SERVER, d->server, VDC_WIRE_SERVER_MAC, d->server_mac, VDC_WIRE_PEERS, peers,
			 VDC_WIRE_REMOTE, remote);
}

static json_t *group_json(const struct vdc_group_desired *g)
{
	json_t *members = json_array();
	size_t i;

	for (i = 0; i < g->nmembers; i++)
		json_array_append_new(members, json_string(g->members[i]));
	return json_pack("{s:s, s:s%, s:o}", VDC_WIRE_NAME, g->name, VDC_WIRE_RULES, g->rules, g->rules_len,
			 VDC_WIRE_MEMBERS, members);
}

void vdc_network_desired(struct vdc_obj *host, json_t *root)
{
	json_t *nets = json_array(), *groups = json_array();
	struct vdc_network_desired d;
	size_t i;

	vdc_network_desired_get(host, &d);
	for (i = 0; i < d.nnets; i++)
		json_array_append_new(nets, network_json(&d.nets[i]));
	for (i = 0; i < d.ngroups; i++)
		json_array_append_new(groups, group_json(&d.groups[i]));
	vdc_network_desired_release(&d);
	json_object_set_new(root, VDC_WIRE_NETWORKS, nets);
	json_object_set_new(root, VDC_WIRE_SECURITY_GROUPS, groups);
}

/* ---- the desired state: volumes (volume.c's part) ---- */

/*
 * An image as an agent is told: {name, size, format, sha256}; no
 * "sha256" while it is being computed (the agent waits for the next
 * revision).
 */
static json_t *image_json(const struct vdc_obj *img, vdc_wire_image_sum_fn *image_sum)
{
	char sum[65];
	off_t size;
	bool qcow2, known = image_sum(img, sum, &size, &qcow2);
	json_t *j = json_pack("{s:s, s:I, s:s}", VDC_WIRE_NAME, img->name, VDC_WIRE_SIZE, (json_int_t)size,
			      VDC_WIRE_FORMAT, qcow2 ? VDC_WIRE_FORMAT_QCOW2 : VDC_WIRE_FORMAT_RAW);

	if (j && known)
		json_object_set_new(j, VDC_WIRE_SHA256, json_string(sum));
	return j;
}

static json_t *sta_volume_json(const struct vdc_sta_vol_desired *d, vdc_wire_image_sum_fn *image_sum)
{
	json_t *snaps = json_array(), *initiators = json_array(), *restore = json_null(), *j;
	size_t i;

	for (i = 0; i < d->nsnaps; i++)
		json_array_append_new(snaps, json_pack("{s:I, s:s}", VDC_WIRE_ID, (json_int_t)d->snaps[i].id,
						       VDC_WIRE_NAME, d->snaps[i].name));
	if (d->restore_n)
		restore = json_pack("{s:I, s:I}", VDC_WIRE_N, (json_int_t)d->restore_n,
				    d->restore_vol ? VDC_WIRE_VOLUME : VDC_WIRE_SNAPSHOT,
				    (json_int_t)(d->restore_vol ? d->restore_vol : d->restore_snap));
	for (i = 0; i < d->ninitiators; i++)
		json_array_append_new(initiators, json_string(d->initiators[i]));
	j = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:o}",
		      VDC_WIRE_ID, (json_int_t)d->id, VDC_WIRE_NAME, d->name, VDC_WIRE_IQN, d->iqn,
		      VDC_WIRE_SIZE, (json_int_t)d->size, VDC_WIRE_CHAP_USER, d->chap_user,
		      VDC_WIRE_CHAP_SECRET, d->chap_secret, VDC_WIRE_INITIATORS, initiators,
		      VDC_WIRE_SNAPSHOTS, snaps, VDC_WIRE_RESTORE, restore);
	if (j && d->image)
		json_object_set_new(j, VDC_WIRE_IMAGE, image_json(d->image, image_sum));
	return j;
}

json_t *vdc_sta_desired_volumes(const struct vdc_obj *host, vdc_wire_image_sum_fn *image_sum)
{
	json_t *list = json_array();
	size_t i, n;
	struct vdc_sta_vol_desired *vols = vdc_sta_volumes_get(host, &n);

	for (i = 0; i < n; i++)
		json_array_append_new(list, sta_volume_json(&vols[i], image_sum));
	vdc_sta_volumes_release(vols, n);
	return list;
}

json_t *vdc_instance_volumes_json(const struct vdc_obj *inst)
{
	json_t *list = json_array();
	size_t i, n;
	struct vdc_inst_vol_desired *vols = vdc_instance_volumes(inst, &n);

	for (i = 0; i < n; i++) {
		const struct vdc_inst_vol_desired *d = &vols[i];

		json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:s}",
						      VDC_WIRE_ID, (json_int_t)d->id, VDC_WIRE_NAME, d->name,
						      VDC_WIRE_LINK, d->link, VDC_WIRE_PORTAL, d->ep.portal,
						      VDC_WIRE_IQN, d->ep.iqn, VDC_WIRE_LUN, d->ep.lun,
						      VDC_WIRE_CHAP_USER, d->ep.user,
						      VDC_WIRE_CHAP_SECRET, d->ep.secret,
						      VDC_WIRE_SIZE, (json_int_t)d->ep.size,
						      VDC_WIRE_SERIAL, d->serial));
	}
	free(vols);
	return list;
}

/* ---- the desired state ---- */

/* An instance's root disk on a storage host (disk.c's part). */
static json_t *disk_json(int64_t id, const struct vdc_inst_disk_desired *d)
{
	return json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:I, s:s, s:b}",
			 VDC_WIRE_ID, (json_int_t)id, VDC_WIRE_PORTAL, d->ep.portal, VDC_WIRE_IQN, d->ep.iqn,
			 VDC_WIRE_LUN, d->ep.lun, VDC_WIRE_CHAP_USER, d->ep.user, VDC_WIRE_CHAP_SECRET, d->ep.secret,
			 VDC_WIRE_SIZE, (json_int_t)d->size, VDC_WIRE_SERIAL, d->serial, VDC_WIRE_READY, d->ready);
}

static json_t *instance_json(struct vdc_obj *inst, vdc_wire_image_sum_fn *image_sum)
{
	struct vdc_inst_disk_desired disk;
	struct vdc_instance_desired d;
	json_t *j, *keys = json_array(), *nics = json_array(), *jimg = json_null();
	const struct vdc_map *children = &inst->children[VDC_INSTANCE_NICS];
	struct vdc_map_entry *e;
	size_t b, i;

	vdc_instance_desired_get(inst, &d);
	for (i = 0; i < d.nkeys; i++)
		json_array_append_new(keys, json_stringn(d.ssh_keys[i], d.ssh_key_lens[i]));
	for (e = vdc_map_first(children, &b); e; e = vdc_map_next(children, e, &b))
		json_array_append_new(nics, vdc_nic_json(e->value));
	if (d.image)
		jimg = image_json(d.image, image_sum);
	j = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:I}",
		      VDC_WIRE_ID, (json_int_t)d.id, VDC_WIRE_NAME, d.name, VDC_WIRE_DOMAIN, d.domain,
		      VDC_WIRE_POWER, d.power_on ? VDC_WIRE_POWER_ON : VDC_WIRE_POWER_OFF,
		      VDC_WIRE_CPUS, (json_int_t)d.cpus, VDC_WIRE_MEMORY_MIB, (json_int_t)d.memory_mib,
		      VDC_WIRE_HOSTNAME, json_stringn(d.hostname, d.hostname_len),
		      VDC_WIRE_USER_DATA, json_stringn(d.user_data, d.user_data_len),
		      VDC_WIRE_SSH_KEYS, keys, VDC_WIRE_IMAGE, jimg, VDC_WIRE_NICS, nics,
		      VDC_WIRE_REBOOT, (json_int_t)d.reboot, VDC_WIRE_RESET, (json_int_t)d.reset);
	vdc_instance_desired_release(&d);
	if (j) {
		json_object_set_new(j, VDC_WIRE_VOLUMES, vdc_instance_volumes_json(inst));
		if (vdc_disk_desired(inst, &disk))
			json_object_set_new(j, VDC_WIRE_DISK, disk_json(inst->id, &disk));
		json_object_set_new(j, VDC_WIRE_SECURITY_GROUPS, vdc_instance_groups_json(inst));
	}
	/* An empty hostname means the instance's name. */
	if (j && !json_string_length(json_object_get(j, VDC_WIRE_HOSTNAME)))
		json_object_set_new(j, VDC_WIRE_HOSTNAME, json_string(inst->name));
	return j;
}

/* The data center's CA (agentd.c sets it at start; tls.h). */
static const char *pki_ca;

void vdc_wire_pki_ca(const char *ca_pem)
{
	pki_ca = ca_pem;
}

/* A hypervisor's "pki": the CA, its certificate and key, once it has them. */
static void pki_json(const struct vdc_host *h, json_t *root)
{
	if (pki_ca && h->pki_cert && h->pki_key)
		json_object_set_new(root, VDC_WIRE_PKI,
				    json_pack("{s:s, s:s, s:s}", VDC_WIRE_PKI_CA, pki_ca, VDC_WIRE_PKI_CERT, h->pki_cert,
					      VDC_WIRE_PKI_KEY, h->pki_key));
}

/* The source's "migrate" of a live migration, when there is one to carry out. */
static void migrate_json(const struct vdc_obj *inst, json_t *j)
{
	struct vdc_migrate_desired m;

	if (j && vdc_migrate_desired(inst, &m))
		json_object_set_new(j, VDC_WIRE_MIGRATE,
				    json_pack("{s:I, s:s, s:s, s:s, s:s}", VDC_WIRE_SEQ, (json_int_t)m.seq, VDC_WIRE_MIGRATE_TO,
					      m.to, VDC_WIRE_MIGRATE_URI, m.uri, VDC_WIRE_MIGRATE_ADDRESS, m.address,
					      VDC_WIRE_MIGRATE_INITIATOR, m.initiator));
}

/* The instances migrating live to `host`, each with its "incoming". */
static void incoming_json(const struct vdc_obj *host, json_t *list, vdc_wire_image_sum_fn *image_sum)
{
	size_t i, n;
	struct vdc_obj **moving = vdc_place_migrating(&n);

	for (i = 0; i < n; i++) {
		char from[16];
		json_t *j;

		if (strcmp(vdc_place_of(moving[i])->migrate_to, host->name))
			continue;
		vdc_migrate_incoming_from(moving[i], from);
		j = instance_json(moving[i], image_sum);
		if (j)
			json_object_set_new(j, VDC_WIRE_INCOMING, json_pack("{s:s}", VDC_WIRE_INCOMING_FROM, from));
		json_array_append_new(list, j);
	}
	free(moving);
}

/* The desired state of a host; read lock held. */
static json_t *desired_json(struct vdc_obj *host, vdc_wire_image_sum_fn *image_sum)
{
	struct vdc_host *h = vdc_host_of(host);
	const struct vdc_reldir *r = &host->rel[VDC_HOST_INSTANCES];
	json_t *list, *root;
	char initiator[VDC_IQN_MAX];
	unsigned i;

	if (h->role == VDC_ROLE_STA)
		return json_pack("{s:I, s:s, s:I, s:o}", VDC_WIRE_REV, (json_int_t)h->rev,
				 VDC_WIRE_DC, vdc_model_meta("dc"),
				 VDC_WIRE_HEARTBEAT, (json_int_t)vdc_hosts_heartbeat(),
				 VDC_WIRE_VOLUMES, vdc_sta_desired_volumes(host, image_sum));
	list = json_array();
	vdc_initiator_iqn(host->name, initiator, sizeof(initiator));
	for (i = 0; i < r->n; i++) {
		struct vdc_obj *inst = vdc_link_target(r->links[i]);

		json_t *j;

		if (!inst || vdc_place_of(inst)->leaving)
			continue;
		j = instance_json(inst, image_sum);
		migrate_json(inst, j);
		json_array_append_new(list, j);
	}
	incoming_json(host, list, image_sum);
	root = json_pack("{s:I, s:s, s:I, s:s, s:o}", VDC_WIRE_REV, (json_int_t)h->rev,
			 VDC_WIRE_DC, vdc_model_meta("dc"), VDC_WIRE_HEARTBEAT, (json_int_t)vdc_hosts_heartbeat(),
			 VDC_WIRE_INITIATOR, initiator, VDC_WIRE_INSTANCES, list);
	if (root) {
		vdc_network_desired(host, root);
		pki_json(h, root);
	}
	return root;
}

char *vdc_wire_desired(struct vdc_obj *host, vdc_wire_image_sum_fn *image_sum)
{
	return dump(desired_json(host, image_sum));
}

/* ---- the server's short answers ---- */

char *vdc_wire_error(const char *msg)
{
	return dump(json_pack("{s:s}", VDC_WIRE_ERROR, msg));
}

char *vdc_wire_ok(void)
{
	return dump(json_pack("{s:b}", VDC_WIRE_OK, 1));
}

char *vdc_wire_have(uint64_t have)
{
	return dump(json_pack("{s:I}", VDC_WIRE_HAVE, (json_int_t)have));
}

char *vdc_wire_console_input(const struct vdc_console_input *list, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	json_t *arr = json_array();
	size_t i, k;

	for (i = 0; i < n; i++) {
		char *hex = xmalloc(list[i].len * 2 + 1);

		for (k = 0; k < list[i].len; k++) {
			hex[2 * k] = digits[(unsigned char)list[i].buf[k] >> 4];
			hex[2 * k + 1] = digits[(unsigned char)list[i].buf[k] & 15];
		}
		hex[2 * k] = '\0';
		json_array_append_new(arr, json_pack("{s:I, s:s}", VDC_WIRE_ID, (json_int_t)list[i].id,
						     VDC_WIRE_HEX, hex));
		free(hex);
	}
	return dump(json_pack("{s:o}", VDC_WIRE_INPUT, arr));
}

char *vdc_wire_joined(const char *name, const char *token)
{
	return dump(json_pack("{s:s, s:s}", VDC_WIRE_NAME, name, VDC_WIRE_TOKEN, token));
}
