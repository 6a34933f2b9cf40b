#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "dhcp.h"
#include "log.h"
#include "vnet.h"

#define RETRY_MS 5000L

void hva_vnets_init(struct hva_vnets *v, uint32_t underlay)
{
	memset(v, 0, sizeof(*v));
	v->underlay = underlay;
}

void hva_vnets_release(struct hva_vnets *v)
{
	if (v->nl)
		hva_net_close(v->nl);
	if (v->fw_ready)
		hva_fw_release(&v->fw);
	free(v->errs);
	memset(v, 0, sizeof(*v));
}

bool hva_instance_on_vnet(const struct hva_instance_spec *in)
{
	size_t k;

	for (k = 0; k < in->n_nics; k++)
		if (in->nics[k].network[0])
			return true;
	return false;
}

static const char *err_of(const struct hva_vnets *v, uint32_t vni)
{
	size_t i;

	for (i = 0; i < v->n_errs; i++)
		if (v->errs[i].vni == vni)
			return v->errs[i].msg;
	return NULL;
}

/* Keep the error of network `vni` for this pass, logged when it is new. */
static void net_failed(struct hva_vnets *v, const struct hva_vnet_err *old, size_t n_old, uint32_t vni,
		       const struct vdc_err *err)
{
	size_t i;
	bool known = false;

	for (i = 0; i < n_old && !known; i++)
		known = old[i].vni == vni && !strcmp(old[i].msg, err->msg);
	if (!known)
		log_error("network %u: %s", vni, err->msg);
	v->errs = xrealloc(v->errs, (v->n_errs + 1) * sizeof(*v->errs));
	v->errs[v->n_errs].vni = vni;
	snprintf(v->errs[v->n_errs].msg, sizeof(v->errs->msg), "%s", err->msg);
	v->n_errs++;
}

/* A MAC the desired state checked ("52:54:00:00:00:0c") as its six bytes. */
static void mac_bytes(const char *mac, unsigned char out[6])
{
	sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &out[0], &out[1], &out[2], &out[3], &out[4], &out[5]);
}

/* The FDB entries of `n`: a flood entry per peer host, and each guest MAC on another host. */
static struct hva_fdb_entry *fdb_of(const struct hva_vnets *v, const struct hva_network_spec *n, size_t *count)
{
	struct hva_fdb_entry *e = xcalloc(n->n_peers + n->n_remote + 1, sizeof(*e));
	size_t i, k = 0;

	for (i = 0; i < n->n_peers; i++)
		if (n->peers[i] != v->underlay)
			e[k++].dst = n->peers[i];
	for (i = 0; i < n->n_remote; i++) {
		if (n->remote[i].peer == v->underlay)
			continue;
		mac_bytes(n->remote[i].mac, e[k].mac);
		e[k++].dst = n->remote[i].peer;
	}
	*count = k;
	return e;
}

/* The nics of this host's instances on network `n` that have an address, for its DHCP server. */
static struct hva_dhcp_host *dhcp_hosts(const struct hva_desired *d, const struct hva_network_spec *n,
					size_t *count)
{
	struct hva_dhcp_host *h = NULL;
	size_t i, k;

	*count = 0;
	for (i = 0; i < d->n; i++) {
		const struct hva_instance_spec *in = &d->inst[i];

		for (k = 0; !in->err[0] && k < in->n_nics; k++) {
			const struct hva_nic_spec *nic = &in->nics[k];

			if (nic->net != n || !nic->ip)
				continue;
			h = xrealloc(h, (*count + 1) * sizeof(*h));
			snprintf(h[*count].mac, sizeof(h->mac), "%s", nic->mac);
			h[*count].ip = nic->ip;
			snprintf(h[*count].name, sizeof(h->name), "%s", in->name);
			(*count)++;
		}
	}
	return h;
}

/* Links and DHCP server of one well-formed network. */
static int network_sync(struct hva_vnets *v, const char *statedir, const char *dc,
			const struct hva_network_spec *n, const struct hva_desired *d, struct vdc_err *err)
{
	struct hva_netdev_want want;
	struct hva_dhcp_want dw;
	struct hva_dhcp_host *hosts = NULL;
	int rc;

	memset(&want, 0, sizeof(want));
	snprintf(want.name, sizeof(want.name), "%s", n->name);
	want.vni = n->vni;
	mac_bytes(n->server_mac, want.server_mac);
	want.server = n->dhcp ? n->server : 0;
	want.local = v->underlay;
	want.port = HVA_VXLAN_PORT;
	want.mtu = v->mtu;
	want.fdb = fdb_of(v, n, &want.n_fdb);
	rc = hva_net_sync(v->nl, dc, &want, err);
	free((void *)want.fdb);
	if (rc < 0 || !n->dhcp)
		return rc;
	dw.net = n;
	dw.hosts = hosts = dhcp_hosts(d, n, &dw.n_hosts);
	rc = hva_dhcp_sync(statedir, &dw, err);
	free(hosts);
	return rc;
}

/* The link MTU of the underlay, once; -errno with the sentence when it cannot be told. */
static int mtu_ensure(struct hva_vnets *v, struct vdc_err *err)
{
	char addr[VDC_IPV4_TEXT];
	unsigned mtu;
	int rc;

	if (v->mtu)
		return 0;
	rc = hva_net_addr_mtu(v->nl, v->underlay, &mtu, err);
	vdc_ipv4_format(v->underlay, addr);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "the underlay address %s (--underlay) cannot carry VXLAN", addr);
	if (mtu < 576 + HVA_VXLAN_OVERHEAD)
		return vdc_err_set(err, -EINVAL, "the link of the underlay address %s has an MTU of %u; VXLAN needs %u",
				   addr, mtu, 576 + HVA_VXLAN_OVERHEAD);
	v->mtu = mtu - HVA_VXLAN_OVERHEAD;
	return 0;
}

void hva_vnets_pass(struct hva_vnets *v, const char *statedir, const char *dc, struct hva_desired *d)
{
	struct hva_vnet_err *old = v->errs;
	struct vdc_err err = VDC_ERR_INIT;
	size_t n_old = v->n_errs, i;
	char old_fw[VDC_ERR_MSG_MAX];
	int rc = 0;

	v->errs = NULL;
	v->n_errs = 0;
	v->retry_at = 0;
	snprintf(old_fw, sizeof(old_fw), "%s", v->fw_err);
	v->fw_err[0] = '\0';
	if (!v->nl)
		rc = hva_net_open(&v->nl, &err);
	if (rc == 0 && d->n_networks)
		rc = mtu_ensure(v, &err);
	for (i = 0; i < d->n_networks; i++) {
		struct hva_network_spec *n = &d->networks[i];
		struct vdc_err why = VDC_ERR_INIT;

		if (n->err[0])
			continue;
		n->mtu = v->mtu;
		if (rc < 0 || network_sync(v, statedir, dc, n, d, &why) < 0)
			net_failed(v, old, n_old, n->vni, rc < 0 ? &err : &why);
	}
	if (!v->fw_ready && hva_fw_init(&v->fw, &err) == 0)
		v->fw_ready = true;
	if (!v->fw_ready || hva_fw_sync(&v->fw, d, &err) < 0) {
		snprintf(v->fw_err, sizeof(v->fw_err), "security groups cannot be enforced: %s", err.msg);
		if (strcmp(old_fw, v->fw_err))
			log_error("%s", v->fw_err);
	}
	if (v->n_errs || v->fw_err[0])
		v->retry_at = vdc_agent_now_ms() + RETRY_MS;
	free(old);
}

void hva_vnets_prune(struct hva_vnets *v, const char *statedir, const struct hva_desired *d)
{
	struct vdc_err err = VDC_ERR_INIT;
	uint32_t *keep = xcalloc(d->n_networks ? d->n_networks : 1, sizeof(*keep)), *dhcp;
	size_t i, n = 0, nd = 0;

	dhcp = xcalloc(d->n_networks ? d->n_networks : 1, sizeof(*dhcp));
	for (i = 0; i < d->n_networks; i++) {
		if (d->networks[i].err[0] || !d->networks[i].vni)
			continue;
		keep[n++] = d->networks[i].vni;
		if (d->networks[i].dhcp)
			dhcp[nd++] = d->networks[i].vni;
	}
	hva_dhcp_prune(statedir, dhcp, nd);
	if (v->nl && hva_net_prune(v->nl, d->dc, keep, n, &err) < 0) {
		if (err.code != -EBUSY)
			log_warn("%s", err.msg);
		v->retry_at = vdc_agent_now_ms() + RETRY_MS;
	}
	free(keep);
	free(dhcp);
}

int hva_vnets_instance_ok(const struct hva_vnets *v, const struct hva_instance_spec *in, struct vdc_err *err)
{
	size_t k;
	int rc = hva_instance_networks_ok(in, err);

	if (rc < 0)
		return rc;
	for (k = 0; k < in->n_nics; k++) {
		const struct hva_nic_spec *nic = &in->nics[k];
		const char *why = nic->net ? err_of(v, nic->net->vni) : NULL;

		if (why)
			return vdc_err_set(err, -EIO, "network %s: %s", nic->net->name, why);
	}
	if (v->fw_err[0] && hva_instance_on_vnet(in))
		return vdc_err_set(err, -EIO, "%s", v->fw_err);
	return 0;
}
