/*
 * networks/NAME/: a virtual IPv4 network. Its addresses, overlay id and
 * what hypervisors build of it live in kinds/network.c.
 */
#include <string.h>

#include "kinds.h"
#include "network.h"

static int check_cidr(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	uint32_t net, gw;
	unsigned prefix;
	size_t glen;
	const char *g;
	int rc;

	if (!len)
		return 0;
	rc = vdc_cidr_parse(v, len, &net, &prefix, err);
	if (rc < 0)
		return rc;
	if (prefix < 8 || prefix > 30)
		return vdc_err_set(err, -ERANGE, "cidr %.*s has prefix /%u; networks take /8 to /30", (int)len, v, prefix);
	g = vdc_attr_value(obj, VDC_NETWORK_GATEWAY, &glen);
	if (glen && vdc_ipv4_parse(g, glen, &gw, NULL) == 0 && !vdc_ipv4_host_in(gw, net, prefix))
		return vdc_err_set(err, -EINVAL, "gateway %.*s is outside %.*s; change gateway first", (int)glen, g,
				   (int)len, v);
	return vdc_network_check_cidr(obj, net, prefix, err);
}

static int check_gateway(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	uint32_t gw, net;
	unsigned prefix;
	int rc;

	if (!len)
		return vdc_network_check_gateway(obj, 0, err);
	rc = vdc_ipv4_parse(v, len, &gw, err);
	if (rc < 0)
		return rc;
	if (vdc_network_cidr(obj, &net, &prefix) == 0 && !vdc_ipv4_host_in(gw, net, prefix))
		return vdc_err_set(err, -EINVAL, "gateway %.*s is not a host address of the network's cidr", (int)len, v);
	return vdc_network_check_gateway(obj, gw, err);
}

static int check_dhcp(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	bool on;

	(void)obj;
	return vdc_onoff_parse(v, len, "dhcp", &on, err);
}

static int check_dns(const struct vdc_obj *obj, const char *v, size_t len, struct vdc_err *err)
{
	(void)obj;
	return vdc_dns_check(v, len, err);
}

static const struct vdc_attr_def attrs[] = {
	[VDC_NETWORK_CIDR] = { "cidr", VDC_ATTR_VALUE, "", NULL, 18, 0, check_cidr },
	[VDC_NETWORK_GATEWAY] = { "gateway", VDC_ATTR_VALUE, "", NULL, 15, 0, check_gateway },
	[VDC_NETWORK_DHCP] = { "dhcp", VDC_ATTR_VALUE, "on", NULL, 3, 0, check_dhcp },
	[VDC_NETWORK_DNS] = { "dns", VDC_ATTR_VALUE, "", NULL, 64, 0, check_dns },
};
VDC_TABLE_IS(attrs, VDC_NETWORK_NATTRS);

static const struct vdc_run_def runfiles[] = {
	VDC_RUN_COMMON,
	{ "vni", vdc_network_show_vni },
	{ "dhcp-server", vdc_network_show_dhcp_server },
};

static const struct vdc_verb_def verbs[] = {
	VDC_VERBS_COMMON,
};

const struct vdc_kind vdc_kind_networks = {
	.id = VDC_KIND_NETWORKS,
	.name = "networks",
	.shared_by_root = true,
	.noun = "network",
	.attrs = attrs,
	.nattrs = VDC_NATTRS(attrs),
	.runfiles = runfiles,
	.nrunfiles = VDC_NRUNFILES(runfiles),
	.verbs = verbs,
	.nverbs = VDC_ARRAY_SIZE(verbs),
	.initial_state = "defined",
	.changed = vdc_network_changed,
	.created = vdc_network_created,
	.renamed = vdc_network_renamed,
	.loaded = vdc_network_loaded,
	.all_loaded = vdc_networks_all_loaded,
	.live_loaded = vdc_network_live_loaded,
	.release = vdc_network_release,
};
