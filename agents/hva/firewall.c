#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <nftables/libnftables.h>

#include "firewall.h"
#include "log.h"
#include "netdev.h"

#define MARK_OURS 0x80000000u
#define MARK_SRC_SHIFT 16
#define BRNF_SYSCTL "/proc/sys/net/bridge/bridge-nf-call-iptables"
#define COMMENT_PREFIX "vdc-hva "

/* A nic of this host on a virtual network, as the ruleset sees it. */
struct fw_nic {
	const struct hva_nic_spec *nic;
	const struct hva_instance_spec *in;
	char tap[IFNAMSIZ];
	unsigned slot;
	bool has_out;                  /* its groups have `out` rules */
};

struct fw_plan {
	const struct hva_desired *d;
	struct fw_nic *nics;
	size_t n;
	const struct hva_network_spec **nets;   /* the networks of local nics, by vni */
	size_t n_nets;
	char (*sets)[VDC_NAME_MAX + 1];         /* the groups rules name as peers, by name */
	size_t n_sets;
	uint32_t *from;                         /* the sources of instances arriving live */
	size_t n_from;
};

void hva_fw_table_name(const char *dc, char *out, size_t n)
{
	size_t i;

	snprintf(out, n, "vdc_%s", dc);
	for (i = 4; out[i]; i++)
		if (out[i] == '-')
			out[i] = '_';
}

/* An nft set name for group `name`: g_NAME with '-' as '_' (group names have no '_'). */
static void set_name(const char *name, char out[VDC_NAME_MAX + 3])
{
	size_t i;

	snprintf(out, VDC_NAME_MAX + 3, "g_%s", name);
	for (i = 2; out[i]; i++)
		if (out[i] == '-')
			out[i] = '_';
}

static int cmp_nic(const void *a, const void *b)
{
	const struct fw_nic *x = a, *y = b;

	return x->nic->id < y->nic->id ? -1 : x->nic->id > y->nic->id;
}

static int cmp_net(const void *a, const void *b)
{
	const struct hva_network_spec *x = *(const struct hva_network_spec *const *)a;
	const struct hva_network_spec *y = *(const struct hva_network_spec *const *)b;

	return x->vni < y->vni ? -1 : x->vni > y->vni;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Does instance `in` have an `out` rule in any of its groups? */
static bool has_out_rules(const struct hva_desired *d, const struct hva_instance_spec *in)
{
	size_t g, r;

	for (g = 0; g < in->n_groups; g++) {
		const struct hva_group_spec *gs = hva_group_find(d, in->groups[g]);

		for (r = 0; gs && r < gs->n_rules; r++)
			if (gs->rules[r].dir == VDC_RULE_OUT)
				return true;
	}
	return false;
}

static void set_add(struct fw_plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_sets; i++)
		if (!strcmp(p->sets[i], name))
			return;
	p->sets = xrealloc(p->sets, (p->n_sets + 1) * sizeof(*p->sets));
	snprintf(p->sets[p->n_sets++], sizeof(*p->sets), "%s", name);
}

/*
 * What the ruleset is made of: the local nics on a network (of instances
 * the desired state carries well formed, whose networks are well formed),
 * in the order of their ids; their networks; the groups their rules name.
 */
static int plan_make(const struct hva_desired *d, struct fw_plan *p, struct vdc_err *err)
{
	size_t i, k, g, r;

	memset(p, 0, sizeof(*p));
	p->d = d;
	for (i = 0; i < d->n; i++) {
		const struct hva_instance_spec *in = &d->inst[i];

		if (in->err[0])
			continue;
		if (in->incoming.present) {
			p->from = xrealloc(p->from, (p->n_from + 1) * sizeof(*p->from));
			p->from[p->n_from++] = in->incoming.from;
		}
		for (k = 0; k < in->n_nics; k++) {
			const struct hva_nic_spec *nic = &in->nics[k];
			size_t j;

			if (!nic->net || nic->net->err[0])
				continue;
			p->nics = xrealloc(p->nics, (p->n + 1) * sizeof(*p->nics));
			memset(&p->nics[p->n], 0, sizeof(*p->nics));
			p->nics[p->n].nic = nic;
			p->nics[p->n].in = in;
			hva_net_tap_name(nic->id, p->nics[p->n].tap);
			p->nics[p->n].has_out = has_out_rules(d, in);
			p->n++;
			for (j = 0; j < p->n_nets && p->nets[j] != nic->net; j++)
				;
			if (j == p->n_nets) {
				p->nets = xrealloc(p->nets, (p->n_nets + 1) * sizeof(*p->nets));
				p->nets[p->n_nets++] = nic->net;
			}
			for (g = 0; g < in->n_groups; g++) {
				const struct hva_group_spec *gs = hva_group_find(d, in->groups[g]);

				for (r = 0; gs && r < gs->n_rules; r++)
					if (gs->rules[r].peer_is_group)
						set_add(p, gs->rules[r].peer_group);
			}
		}
	}
	if (p->n > HVA_FW_SLOTS_MAX)
		return vdc_err_set(err, -E2BIG, "%zu nics on virtual networks; a host fences at most %d", p->n,
				   HVA_FW_SLOTS_MAX);
	if (p->n)
		qsort(p->nics, p->n, sizeof(*p->nics), cmp_nic);
	for (i = 0; i < p->n; i++)
		p->nics[i].slot = (unsigned)i + 1;
	if (p->n_nets)
		qsort(p->nets, p->n_nets, sizeof(*p->nets), cmp_net);
	if (p->n_sets)
		qsort(p->sets, p->n_sets, sizeof(*p->sets), cmp_name);
	return 0;
}

static void plan_release(struct fw_plan *p)
{
	free(p->nics);
	free(p->nets);
	free(p->sets);
	free(p->from);
}

/* `{ a, b, c }` of the sorted, distinct addresses `v`, or nothing when empty. */
static void add_elements(struct strbuf *out, uint32_t *v, size_t n)
{
	char text[VDC_IPV4_TEXT];
	size_t i, shown = 0;

	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_u32);
	strbuf_addstr(out, "\t\telements = { ");
	for (i = 0; i < n; i++) {
		if (i && v[i] == v[i - 1])
			continue;
		vdc_ipv4_format(v[i], text);
		strbuf_addf(out, "%s%s", shown++ ? ", " : "", text);
	}
	strbuf_addstr(out, " }\n");
}

static void add_set(struct strbuf *out, const char *name, const uint32_t *v, size_t n)
{
	uint32_t *copy = xcalloc(n ? n : 1, sizeof(*copy));

	if (n)
		memcpy(copy, v, n * sizeof(*copy));
	strbuf_addf(out, "\tset %s {\n\t\ttype ipv4_addr\n", name);
	add_elements(out, copy, n);
	strbuf_addstr(out, "\t}\n");
	free(copy);
}

/* The peer of a rule: `ip saddr X ` for ingress, `ip daddr X ` for egress. */
static void add_peer(struct strbuf *out, const struct vdc_rule *r, const char *field)
{
	char text[VDC_IPV4_TEXT], set[VDC_NAME_MAX + 3];

	if (r->peer_is_group) {
		set_name(r->peer_group, set);
		strbuf_addf(out, "ip %s @%s ", field, set);
		return;
	}
	if (r->peer_prefix == 0)
		return;
	vdc_ipv4_format(r->peer_net, text);
	if (r->peer_prefix == 32)
		strbuf_addf(out, "ip %s %s ", field, text);
	else
		strbuf_addf(out, "ip %s %s/%u ", field, text, r->peer_prefix);
}

static void add_rule(struct strbuf *out, const struct vdc_rule *r, const char *field, const char *verdict)
{
	static const char *const l4[] = { "tcp", "udp", "icmp", NULL };

	strbuf_addstr(out, "\t\t");
	add_peer(out, r, field);
	if ((r->proto == VDC_PROTO_TCP || r->proto == VDC_PROTO_UDP) && r->port_lo) {
		if (r->port_hi > r->port_lo)
			strbuf_addf(out, "%s dport %u-%u ", l4[r->proto], r->port_lo, r->port_hi);
		else
			strbuf_addf(out, "%s dport %u ", l4[r->proto], r->port_lo);
	} else if (r->proto != VDC_PROTO_ANY) {
		strbuf_addf(out, "meta l4proto %s ", l4[r->proto]);
	}
	strbuf_addf(out, "%s\n", verdict);
}

/* The rules of direction `dir` of every group of `in`, as nft rules ending in `verdict`. */
static void add_group_rules(struct strbuf *out, const struct fw_plan *p, const struct hva_instance_spec *in,
			    enum vdc_rule_dir dir, const char *verdict)
{
	size_t g, r;

	for (g = 0; g < in->n_groups; g++) {
		const struct hva_group_spec *gs = hva_group_find(p->d, in->groups[g]);

		for (r = 0; gs && r < gs->n_rules; r++)
			if (gs->rules[r].dir == dir)
				add_rule(out, &gs->rules[r], dir == VDC_RULE_IN ? "saddr" : "daddr", verdict);
	}
}

/* A tap's anti-spoofing chain: its MAC, its address, ARP of its own, DHCP; nothing else. */
static void add_spoof_chain(struct strbuf *out, const struct fw_nic *n)
{
	char ip[VDC_IPV4_TEXT];

	vdc_ipv4_format(n->nic->ip, ip);
	strbuf_addf(out, "\tchain from_%s {\n", n->tap);
	strbuf_addf(out, "\t\tmeta mark set 0x%08x\n", MARK_OURS | n->slot << MARK_SRC_SHIFT);
	strbuf_addf(out, "\t\tether saddr != %s counter drop\n", n->nic->mac);
	strbuf_addf(out, "\t\tether type arp arp saddr ether != %s counter drop\n", n->nic->mac);
	if (n->nic->ip)
		strbuf_addf(out, "\t\tether type arp arp saddr ip != { 0.0.0.0, %s } counter drop\n", ip);
	else
		strbuf_addstr(out, "\t\tether type arp arp saddr ip != 0.0.0.0 counter drop\n");
	strbuf_addstr(out, "\t\tether type arp accept\n");
	strbuf_addstr(out, "\t\tether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept\n");
	if (n->nic->ip) {
		strbuf_addf(out, "\t\tether type ip ip saddr != %s counter drop\n", ip);
		strbuf_addstr(out, "\t\tether type ip accept\n");
	}
	strbuf_addstr(out, "\t\tcounter drop\n\t}\n");
}

/* How a nic is told in a verdict map: its tap's name, or its slot in the mark. */
enum vmap_key { KEY_TAP, KEY_SRC_SLOT, KEY_DST_SLOT };

/*
 * The rule `MATCH vmap { KEY : jump CHAIN_TAP, ... }` over the local
 * nics (only those whose groups have `out` rules when `only_out`), or
 * nothing when no nic is in it: nft refuses an empty map.
 */
static void add_vmap(struct strbuf *out, const struct fw_plan *p, const char *match, enum vmap_key key,
		     const char *chain, bool only_out)
{
	size_t i, shown = 0;

	for (i = 0; i < p->n; i++) {
		const struct fw_nic *n = &p->nics[i];

		if (only_out && !n->has_out)
			continue;
		if (shown++)
			strbuf_addstr(out, ", ");
		else
			strbuf_addf(out, "\t\t%s vmap { ", match);
		if (key == KEY_TAP)
			strbuf_addf(out, "\"%s\"", n->tap);
		else
			strbuf_addf(out, "0x%08x", key == KEY_SRC_SLOT ? n->slot << MARK_SRC_SHIFT : n->slot);
		strbuf_addf(out, " : jump %s_%s", chain, n->tap);
	}
	if (shown)
		strbuf_addstr(out, " }\n");
}

static void add_bridge_table(struct strbuf *out, const struct fw_plan *p, const char *table, const char *digest)
{
	size_t i;

	strbuf_addf(out, "table bridge %s {\n", table);
	if (digest)
		strbuf_addf(out, "\tcomment \"" COMMENT_PREFIX "%s\"\n", digest);
	strbuf_addstr(out, "\tchain ports_in {\n\t\ttype filter hook prerouting priority -300; policy accept;\n");
	add_vmap(out, p, "iifname", KEY_TAP, "from", false);
	strbuf_addf(out, "\t\tiifname \"vdcx*\" meta mark set 0x%08x accept\n", MARK_OURS);
	strbuf_addstr(out, "\t\tiifname \"vdcn*\" counter drop\n\t}\n");
	for (i = 0; i < p->n; i++)
		add_spoof_chain(out, &p->nics[i]);
	strbuf_addstr(out, "\tchain ports_out {\n\t\ttype filter hook forward priority -200; policy accept;\n");
	strbuf_addstr(out, "\t\toifname \"vdcx*\" ether type ip udp dport 67 drop\n");
	add_vmap(out, p, "oifname", KEY_TAP, "to", false);
	strbuf_addstr(out, "\t\toifname \"vdcn*\" counter drop\n\t}\n");
	for (i = 0; i < p->n; i++)
		strbuf_addf(out, "\tchain to_%s {\n\t\tmeta mark set meta mark & 0xffff0000 | 0x%08x accept\n\t}\n",
			    p->nics[i].tap, p->nics[i].slot);
	strbuf_addstr(out, "\tchain host_in {\n\t\ttype filter hook input priority -200; policy accept;\n"
			   "\t\tiifname \"vdcx*\" drop\n\t}\n");
	strbuf_addstr(out, "\tchain host_out {\n\t\ttype filter hook output priority -200; policy accept;\n"
			   "\t\toifname \"vdcx*\" drop\n\t}\n");
	strbuf_addstr(out, "}\n");
}

/* The underlay addresses VXLAN may come from: every peer and remote nic's host. */
static void add_peers_set(struct strbuf *out, const struct fw_plan *p)
{
	uint32_t *v = NULL;
	size_t n = 0, i, k;

	for (i = 0; i < p->n_nets; i++) {
		const struct hva_network_spec *net = p->nets[i];

		v = xrealloc(v, (n + net->n_peers + net->n_remote + 1) * sizeof(*v));
		for (k = 0; k < net->n_peers; k++)
			v[n++] = net->peers[k];
		for (k = 0; k < net->n_remote; k++)
			v[n++] = net->remote[k].peer;
	}
	add_set(out, "peers", v, n);
	free(v);
}

static void add_inet_table(struct strbuf *out, const struct fw_plan *p, const char *table, const char *digest)
{
	char bridge[IFNAMSIZ], set[VDC_NAME_MAX + 3];
	size_t i;

	strbuf_addf(out, "table inet %s {\n", table);
	if (digest)
		strbuf_addf(out, "\tcomment \"" COMMENT_PREFIX "%s\"\n", digest);
	add_peers_set(out, p);
	for (i = 0; i < p->n_sets; i++) {
		const struct hva_group_spec *g = hva_group_find(p->d, p->sets[i]);

		set_name(p->sets[i], set);
		add_set(out, set, g ? g->members : NULL, g ? g->n_members : 0);
	}
	if (p->n_from)
		add_set(out, "migrate_from", p->from, p->n_from);
	strbuf_addstr(out, "\tchain zones {\n\t\ttype filter hook prerouting priority -300; policy accept;\n");
	if (p->n_nets) {
		strbuf_addstr(out, "\t\tct zone set iifname map { ");
		for (i = 0; i < p->n_nets; i++) {
			hva_net_bridge_name(p->nets[i]->vni, bridge);
			strbuf_addf(out, "%s\"%s\" : %u", i ? ", " : "", bridge, p->nets[i]->vni % 65535 + 1);
		}
		strbuf_addstr(out, " }\n");
	}
	strbuf_addstr(out, "\t}\n");
	strbuf_addstr(out, "\tchain guests {\n\t\ttype filter hook forward priority 0; policy accept;\n");
	strbuf_addf(out, "\t\tmeta mark & 0x%08x == 0 iifname \"vdcb*\" counter drop\n", MARK_OURS);
	strbuf_addf(out, "\t\tmeta mark & 0x%08x == 0 oifname \"vdcb*\" counter drop\n", MARK_OURS);
	add_vmap(out, p, "meta mark & 0x7fff0000", KEY_SRC_SLOT, "out", true);
	add_vmap(out, p, "meta mark & 0x0000ffff", KEY_DST_SLOT, "in", false);
	strbuf_addstr(out, "\t}\n");
	for (i = 0; i < p->n; i++) {
		const struct fw_nic *n = &p->nics[i];

		if (n->has_out) {
			strbuf_addf(out, "\tchain out_%s {\n\t\tct state established,related return\n", n->tap);
			add_group_rules(out, p, n->in, VDC_RULE_OUT, "return");
			strbuf_addstr(out, "\t\tcounter drop\n\t}\n");
		}
		strbuf_addf(out, "\tchain in_%s {\n\t\tct state established,related accept\n"
				 "\t\tct state invalid drop\n", n->tap);
		add_group_rules(out, p, n->in, VDC_RULE_IN, "accept");
		strbuf_addstr(out, "\t\tcounter drop\n\t}\n");
	}
	strbuf_addstr(out, "\tchain host_in {\n\t\ttype filter hook input priority 0; policy accept;\n"
			   "\t\tiifname \"vdcb*\" udp dport 67 accept\n"
			   "\t\tiifname \"vdcb*\" counter drop\n");
	strbuf_addf(out, "\t\tudp dport %u ip saddr != @peers counter drop\n", HVA_VXLAN_PORT);
	/* Only while an instance arrives live: the migration stream from its source, nothing else. */
	if (p->n_from) {
		strbuf_addf(out, "\t\ttcp dport %u-%u ct state established,related accept\n", HVA_MIG_PORT_MIN,
			    HVA_MIG_PORT_MAX);
		strbuf_addf(out, "\t\ttcp dport %u-%u ip saddr @migrate_from accept\n", HVA_MIG_PORT_MIN,
			    HVA_MIG_PORT_MAX);
		strbuf_addf(out, "\t\ttcp dport %u-%u counter drop\n", HVA_MIG_PORT_MIN, HVA_MIG_PORT_MAX);
	}
	strbuf_addstr(out, "\t}\n");
	strbuf_addstr(out, "}\n");
}

int hva_fw_script(const struct hva_desired *d, const char *digest, struct strbuf *out, struct vdc_err *err)
{
	char table[HVA_DC_MAX + 5];
	struct fw_plan p;
	int rc;

	rc = plan_make(d, &p, err);
	if (rc == 0) {
		hva_fw_table_name(d->dc, table, sizeof(table));
		add_bridge_table(out, &p, table, digest);
		add_inet_table(out, &p, table, digest);
	}
	plan_release(&p);
	return rc;
}

/* ---- the kernel's side ---- */

int hva_fw_init(struct hva_fw *fw, struct vdc_err *err)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	memset(fw, 0, sizeof(*fw));
	if (!nft)
		return vdc_err_set(err, -ENOMEM, "cannot make a libnftables context");
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	fw->nft = nft;
	return 0;
}

void hva_fw_release(struct hva_fw *fw)
{
	if (fw->nft)
		nft_ctx_free(fw->nft);
	fw->nft = NULL;
}

/* Run nft commands `cmds`; on failure, the first line nft said goes to the sentence. */
static int run_nft(struct hva_fw *fw, const char *what, const char *cmds, struct vdc_err *err)
{
	const char *msg;
	size_t len;

	if (nft_run_cmd_from_buffer(fw->nft, cmds) == 0) {
		nft_ctx_get_error_buffer(fw->nft);   /* empties it */
		return 0;
	}
	msg = nft_ctx_get_error_buffer(fw->nft);
	msg = msg ? msg : "";
	len = strcspn(msg, "\n");
	return vdc_err_set(err, -EIO, "nftables refused %s: %.*s", what, (int)(len > 300 ? 300 : len), msg);
}

/* The digest in the comment of table `family table`, into `out` (65 bytes); "" when there is none. */
static void table_digest(struct hva_fw *fw, const char *family, const char *table, char out[65])
{
	char cmd[HVA_DC_MAX + 48];
	const char *text, *c;

	out[0] = '\0';
	snprintf(cmd, sizeof(cmd), "list table %s %s", family, table);
	if (nft_run_cmd_from_buffer(fw->nft, cmd) != 0) {
		nft_ctx_get_error_buffer(fw->nft);
		nft_ctx_get_output_buffer(fw->nft);
		return;
	}
	text = nft_ctx_get_output_buffer(fw->nft);
	c = text ? strstr(text, "comment \"" COMMENT_PREFIX) : NULL;
	if (c && strlen(c) >= strlen("comment \"" COMMENT_PREFIX) + 64) {
		memcpy(out, c + strlen("comment \"" COMMENT_PREFIX), 64);
		out[64] = '\0';
	}
}

/* br_netfilter must hand bridged IPv4 to the inet hooks, or no group is enforced. */
static int brnf_on(struct vdc_err *err)
{
	char v = 0;
	int fd = open(BRNF_SYSCTL, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return vdc_err_set(err, -ENOTSUP, "the kernel does not filter bridged traffic (%s: %s); load br_netfilter to enforce security groups",
				   BRNF_SYSCTL, strerror(errno));
	if (read(fd, &v, 1) == 1 && v == '1') {
		close(fd);
		return 0;
	}
	if (pwrite(fd, "1\n", 2, 0) != 2) {
		int e = errno;

		close(fd);
		return vdc_err_set(err, -e, "cannot turn on %s: %s", BRNF_SYSCTL, strerror(e));
	}
	close(fd);
	log_info("turned on %s: security groups filter bridged traffic", BRNF_SYSCTL);
	return 0;
}

static void digest_of(const struct strbuf *s, char out[65])
{
	unsigned char d[32];
	size_t i;

	gnutls_hash_fast(GNUTLS_DIG_SHA256, s->buf, s->len, d);
	for (i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static bool any_nic(const struct hva_desired *d)
{
	size_t i, k;

	for (i = 0; i < d->n; i++)
		for (k = 0; k < d->inst[i].n_nics; k++)
			if (d->inst[i].nics[k].net)
				return true;
	return false;
}

/* An instance arriving live: its migration ports are fenced, with or without nics. */
static bool any_incoming(const struct hva_desired *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->inst[i].incoming.present && !d->inst[i].err[0])
			return true;
	return false;
}

int hva_fw_sync(struct hva_fw *fw, const struct hva_desired *d, struct vdc_err *err)
{
	struct strbuf body = STRBUF_INIT, all = STRBUF_INIT;
	char table[HVA_DC_MAX + 5], digest[65], have[65];
	bool nics = any_nic(d), wanted = nics || any_incoming(d);
	int rc;

	hva_fw_table_name(d->dc, table, sizeof(table));
	if (!wanted) {
		digest[0] = '\0';
		if (!fw->applied[0] || strcmp(fw->applied, "none")) {
			strbuf_addf(&all, "add table bridge %s\ndelete table bridge %s\n", table, table);
			strbuf_addf(&all, "add table inet %s\ndelete table inet %s\n", table, table);
			rc = run_nft(fw, "the removal of the ruleset", all.buf, err);
			if (rc == 0)
				snprintf(fw->applied, sizeof(fw->applied), "none");
			goto out;
		}
		rc = 0;
		goto out;
	}
	rc = nics ? brnf_on(err) : 0;
	if (rc == 0)
		rc = hva_fw_script(d, NULL, &body, err);
	if (rc < 0)
		goto out;
	digest_of(&body, digest);
	if (!strcmp(fw->applied, digest))
		goto out;
	if (!fw->applied[0]) {
		/* First time: a ruleset left by an earlier run may be the one wanted. */
		table_digest(fw, "bridge", table, have);
		if (!strcmp(have, digest)) {
			table_digest(fw, "inet", table, have);
			if (!strcmp(have, digest)) {
				log_info("the ruleset %s is in place already; kept", table);
				memcpy(fw->applied, digest, sizeof(digest));
				goto out;
			}
		}
	}
	strbuf_addf(&all, "add table bridge %s\ndelete table bridge %s\n", table, table);
	strbuf_addf(&all, "add table inet %s\ndelete table inet %s\n", table, table);
	rc = hva_fw_script(d, digest, &all, err);
	if (rc == 0)
		rc = run_nft(fw, "the security groups' ruleset", all.buf, err);
	if (rc == 0) {
		log_info("loaded the ruleset %s (%.12s)", table, digest);
		memcpy(fw->applied, digest, sizeof(digest));
	} else {
		fw->applied[0] = '\0';
	}
out:
	strbuf_release(&body);
	strbuf_release(&all);
	return rc;
}
