/*
 * The links of virtual networks on a hypervisor host (network.h): one
 * bridge and one VXLAN device per network, made and kept with libnl's
 * route netlink objects. Nothing here runs `ip` or `bridge`; the
 * per-interface sysctls are plain writes under /proc/sys.
 *
 * About 1,100 lines because a network's devices are one piece: the bridge,
 * the VXLAN device and its FDB entries are made, adopted after a restart
 * and removed together, through one netlink socket and cache, and every
 * step checks the others (docs/networks.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>

#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>

#include "log.h"
#include "netdev.h"
#include "strbuf.h"

/* The kernel's limit on IFLA_IFALIAS (IFALIASZ), NUL included. */
#define ALIAS_MAX 256
/* How often a dump the kernel interrupted (the table changed under it) is asked again. */
#define DUMP_TRIES 3
/* The smallest MTU IPv4 allows. */
#define MTU_MIN 68

struct hva_net {
	struct nl_sock *sk;
	int kernel_errno;             /* of the last request the kernel refused; 0: none */
	char kernel_msg[160];         /* its extended acknowledgement, or "" */
};

/* What a link of ours must have that can be changed in place. */
struct link_want {
	const char *alias;
	const unsigned char *mac;     /* NULL: whatever the kernel chose */
	unsigned mtu;
	int master;                   /* the bridge's ifindex; 0: not a port */
};

/* The FDB entries this module makes on one VXLAN device, as a dump finds them. */
struct fdb_set {
	int ifindex;
	struct hva_fdb_entry *e;
	size_t n;
};

/*
 * The kernel's answer to a refused request: its errno, and the sentence
 * of its extended acknowledgement when it gives one ("A VXLAN device
 * with the specified VNI already exists"), which says more than the
 * errno alone. libnl keeps only its own error code, which folds several
 * errnos into one. Returning NL_STOP makes libnl fail the call as it
 * would without this handler.
 */
static int on_kernel_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct hva_net *n = arg;
	size_t off = sizeof(*e);

	(void)who;
	n->kernel_errno = -e->error;
	n->kernel_msg[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_ALIGN(off);
	if (NLMSG_HDRLEN + off >= h->nlmsg_len)
		return NL_STOP;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      (int)(h->nlmsg_len - NLMSG_HDRLEN - off), NULL) == 0 && tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(n->kernel_msg, tb[NLMSGERR_ATTR_MSG], sizeof(n->kernel_msg));
	return NL_STOP;
}

/* The socket for one request, with the kernel's answer to the previous one forgotten. */
static struct nl_sock *request(struct hva_net *n)
{
	n->kernel_errno = 0;
	n->kernel_msg[0] = '\0';
	return n->sk;
}

/* The negative errno for failed libnl call `nlerr`: the kernel's own when it refused. */
static int nl_errno(const struct hva_net *n, int nlerr)
{
	if (n->kernel_errno > 0)
		return -n->kernel_errno;
	switch (-nlerr) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_EXIST: return -EEXIST;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NODEV: return -ENODEV;
	case NLE_BUSY: return -EBUSY;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_DUMP_INTR: return -EAGAIN;
	case NLE_INTR: return -EINTR;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	default: return -EIO;
	}
}

/*
 * Record the failure of libnl call `nlerr` as "WHAT: WHY", WHY being the
 * kernel's own sentence when it gave one, else its errno's (or libnl's
 * when the kernel was not the one who refused).
 */
static int __attribute__((format(printf, 4, 5)))
net_fail(const struct hva_net *n, int nlerr, struct vdc_err *err, const char *fmt, ...)
{
	char what[VDC_ERR_MSG_MAX];
	const char *why;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n->kernel_msg[0])
		why = n->kernel_msg;
	else if (n->kernel_errno > 0)
		why = strerror(n->kernel_errno);
	else
		why = nl_geterror(nlerr);
	return vdc_err_set(err, nl_errno(n, nlerr), "%s: %s", what, why);
}

/* Whether a libnl error says the object is not there (any more). */
static bool nl_absent(const struct hva_net *n, int nlerr)
{
	int e = nl_errno(n, nlerr);

	return e == -ENOENT || e == -ENODEV || e == -EADDRNOTAVAIL;
}

int hva_net_open(struct hva_net **out, struct vdc_err *err)
{
	struct hva_net *n = xcalloc(1, sizeof(*n));
	int one = 1, rc;

	n->sk = nl_socket_alloc();
	if (!n->sk) {
		free(n);
		return vdc_err_set(err, -ENOMEM, "cannot allocate a netlink socket");
	}
	rc = nl_connect(n->sk, NETLINK_ROUTE);
	if (rc < 0) {
		rc = vdc_err_set(err, nl_errno(n, rc), "cannot open a route netlink socket: %s", nl_geterror(rc));
		nl_socket_free(n->sk);
		free(n);
		return rc;
	}
	nl_socket_modify_err_cb(n->sk, NL_CB_CUSTOM, on_kernel_error, n);
	/* Sentences with the errors, without the request echoed back; older kernels have neither. */
	setsockopt(nl_socket_get_fd(n->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(n->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	*out = n;
	return 0;
}

void hva_net_close(struct hva_net *n)
{
	if (!n)
		return;
	nl_socket_free(n->sk);
	free(n);
}

static const char *ipv4_text(uint32_t addr, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = { htonl(addr) };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const char *mac_text(const unsigned char mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

/* The IPv4 address `a` holds, host order; false when it is not one. */
static bool nl_addr_ipv4(const struct nl_addr *a, uint32_t *out)
{
	uint32_t be;

	if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != sizeof(be))
		return false;
	memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
	*out = ntohl(be);
	return true;
}

static struct nl_addr *nl_addr_of_ipv4(uint32_t addr)
{
	uint32_t be = htonl(addr);

	return nl_addr_build(AF_INET, &be, sizeof(be));
}

/* The alias prefix of data center `dc`: "vdc:DC:". */
static int dc_prefix(const char *dc, char out[ALIAS_MAX], struct vdc_err *err)
{
	if (!dc || !dc[0])
		return vdc_err_set(err, -EINVAL, "the data center id for the link aliases is empty");
	if (strchr(dc, ':'))
		return vdc_err_set(err, -EINVAL, "the data center id %s has a ':', which would blur the link aliases",
				   VDC_Q(dc));
	if (snprintf(out, ALIAS_MAX, "vdc:%s:", dc) >= ALIAS_MAX)
		return vdc_err_set(err, -ENAMETOOLONG, "the data center id %s is too long for a link alias",
				   VDC_Q(dc));
	return 0;
}

/* Whether `link` carries an alias that starts with `prefix`, the mark of this data center. */
static bool link_ours(struct rtnl_link *link, const char *prefix)
{
	const char *alias = rtnl_link_get_ifalias(link);

	return alias && strncmp(alias, prefix, strlen(prefix)) == 0;
}

static bool link_kind_is(struct rtnl_link *link, const char *kind)
{
	const char *type = rtnl_link_get_type(link);

	return type && strcmp(type, kind) == 0;
}

/* The link named `name` into `*out`, or NULL there when there is none. */
static int link_find(struct hva_net *n, const char *name, struct rtnl_link **out, struct vdc_err *err)
{
	int rc;

	*out = NULL;
	rc = rtnl_link_get_kernel(request(n), 0, name, out);
	if (rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV) {
		*out = NULL;
		return 0;
	}
	if (rc < 0)
		return net_fail(n, rc, err, "cannot look up link %s", name);
	return 0;
}

/*
 * A same-named link without this data center's alias is someone else's
 * and is never touched, with one exception: a link with no alias at all
 * that is exactly what this agent makes (`half_made`: a bridge with the
 * network's MAC, a VXLAN device with its VNI, port and local address). The
 * kernel takes no alias when a link is made, so an agent killed between
 * making a link and naming it leaves such a link; it is taken back and
 * named, not left to block the network for good.
 */
static int link_claimable(struct rtnl_link *link, const char *prefix, bool half_made, struct vdc_err *err)
{
	const char *alias;

	if (!link || link_ours(link, prefix))
		return 0;
	alias = rtnl_link_get_ifalias(link);
	if ((!alias || !*alias) && half_made) {
		log_warn("link %s has no alias but is what this agent makes; taking it back", rtnl_link_get_name(link));
		return 0;
	}
	return vdc_err_set(err, -EEXIST, "a link named %s exists that this data center did not make (%s); it is left alone",
			   rtnl_link_get_name(link), alias ? VDC_Q(alias) : "no alias");
}

/* Is `br` a bridge with the MAC this agent gives the bridge of `w`? */
static bool bridge_half_made(struct rtnl_link *br, const struct hva_netdev_want *w)
{
	struct nl_addr *mac = br ? rtnl_link_get_addr(br) : NULL;

	return br && link_kind_is(br, "bridge") && mac && nl_addr_get_len(mac) == 6 &&
	       memcmp(nl_addr_get_binary_addr(mac), w->server_mac, 6) == 0;
}

static int link_remove(struct hva_net *n, struct rtnl_link *link, struct vdc_err *err)
{
	int rc = rtnl_link_delete(request(n), link);

	if (rc < 0 && !nl_absent(n, rc))
		return net_fail(n, rc, err, "cannot remove link %s", rtnl_link_get_name(link));
	return 0;
}

/* Remove the link `*link` (to be made again) and let go of it: `*link` is NULL after. */
static int link_discard(struct hva_net *n, struct rtnl_link **link, struct vdc_err *err)
{
	int rc = link_remove(n, *link, err);

	if (rc < 0)
		return rc;
	rtnl_link_put(*link);
	*link = NULL;
	return 0;
}

/*
 * Change what differs between `link` and `w`, in one request; nothing
 * is sent when nothing differs, so a second pass leaves the link alone.
 * The kernel applies the master and the MTU before the flags, so a port
 * comes up already in its bridge.
 */
static int link_ensure(struct hva_net *n, struct rtnl_link *link, const struct link_want *w,
		       struct vdc_err *err)
{
	const char *name = rtnl_link_get_name(link), *alias = rtnl_link_get_ifalias(link);
	struct nl_addr *have_mac = rtnl_link_get_addr(link), *mac = NULL;
	struct rtnl_link *changes = rtnl_link_alloc();
	struct strbuf what = STRBUF_INIT;   /* what is changed, for the log */
	int rc = 0;

	if (!changes)
		return vdc_err_set(err, -ENOMEM, "cannot allocate a link change");
	if (!alias || strcmp(alias, w->alias) != 0) {
		rtnl_link_set_ifalias(changes, w->alias);
		strbuf_addstr(&what, ", alias");
	}
	if (w->mac && (!have_mac || nl_addr_get_len(have_mac) != 6 ||
		       memcmp(nl_addr_get_binary_addr(have_mac), w->mac, 6) != 0)) {
		mac = nl_addr_build(AF_LLC, w->mac, 6);
		if (!mac) {
			rtnl_link_put(changes);
			strbuf_release(&what);
			return vdc_err_set(err, -ENOMEM, "cannot allocate a MAC address");
		}
		rtnl_link_set_addr(changes, mac);
		strbuf_addstr(&what, ", MAC");
	}
	if (rtnl_link_get_mtu(link) != w->mtu) {
		rtnl_link_set_mtu(changes, w->mtu);
		strbuf_addf(&what, ", MTU %u", w->mtu);
	}
	if (w->master && rtnl_link_get_master(link) != w->master) {
		rtnl_link_set_master(changes, w->master);
		strbuf_addstr(&what, ", into its bridge");
	}
	if (!(rtnl_link_get_flags(link) & IFF_UP)) {
		rtnl_link_set_flags(changes, IFF_UP);
		strbuf_addstr(&what, ", brought up");
	}
	if (what.len) {
		rc = rtnl_link_change(request(n), link, changes, 0);
		if (rc < 0)
			rc = net_fail(n, rc, err, "cannot change link %s", name);
		else
			log_info("%s: changed %s", name, what.buf + 2);
	}
	strbuf_release(&what);
	nl_addr_put(mac);
	rtnl_link_put(changes);
	return rc;
}

/*
 * Add `tmpl` (down), then fetch it and give it the alias that makes it
 * ours. The kernel ignores an alias in the request that creates a link,
 * so this is a second request; a link that cannot be given it is
 * removed again, as the next pass would take it for someone else's.
 */
static int link_make(struct hva_net *n, struct rtnl_link *tmpl, const char *alias,
		     struct rtnl_link **out, struct vdc_err *err)
{
	const char *name = rtnl_link_get_name(tmpl);
	struct rtnl_link *changes;
	int rc;

	rc = rtnl_link_add(request(n), tmpl, NLM_F_CREATE | NLM_F_EXCL);
	if (rc < 0)
		return net_fail(n, rc, err, "cannot create link %s", name);
	rc = link_find(n, name, out, err);
	if (rc < 0)
		return rc;
	if (!*out)
		return vdc_err_set(err, -ENODEV, "link %s went away right after it was made", name);
	changes = rtnl_link_alloc();
	if (!changes)
		rc = vdc_err_set(err, -ENOMEM, "cannot allocate a link change");
	else {
		rtnl_link_set_ifalias(changes, alias);
		rc = rtnl_link_change(request(n), *out, changes, 0);
		if (rc < 0)
			rc = net_fail(n, rc, err, "cannot set the alias of link %s", name);
		rtnl_link_put(changes);
	}
	if (rc < 0) {
		rtnl_link_delete(request(n), *out);
		rtnl_link_put(*out);
		*out = NULL;
		return rc;
	}
	rtnl_link_put(*out);
	return link_find(n, name, out, err);
}

/*
 * Set the sysctl net/PROTO/conf/IF/KEY to `value` unless it holds it
 * already, so that a second pass writes nothing. Without IPv6 in the
 * kernel there is no net/ipv6, and nothing to turn off.
 */
static int sysctl_ensure(const char *proto, const char *ifname, const char *key, const char *value,
			 struct vdc_err *err)
{
	char path[128], have[16];
	size_t len = strlen(value);
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", proto, ifname, key);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && strcmp(proto, "ipv6") == 0 && access("/proc/sys/net/ipv6", F_OK) < 0)
		return 0;
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
	got = read(fd, have, sizeof(have) - 1);
	if (got > 0 && (size_t)got == len + 1 && memcmp(have, value, len) == 0 && have[len] == '\n') {
		close(fd);
		return 0;
	}
	if (pwrite(fd, value, len, 0) != (ssize_t)len) {
		int rc = vdc_err_set(err, -errno, "cannot write %s to %s: %s", value, path, strerror(errno));

		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

/* IPv6 off, IPv4 forwarding off and ARP answered only for the bridge's own address. */
static int bridge_sysctls(const char *ifname, struct vdc_err *err)
{
	int rc;

	rc = sysctl_ensure("ipv6", ifname, "disable_ipv6", "1", err);
	if (rc == 0)
		rc = sysctl_ensure("ipv4", ifname, "forwarding", "0", err);
	if (rc == 0)
		rc = sysctl_ensure("ipv4", ifname, "arp_ignore", "1", err);
	return rc;
}

static int bridge_make(struct hva_net *n, const struct hva_netdev_want *w, const char *name,
		       const char *alias, struct rtnl_link **out, struct vdc_err *err)
{
	struct rtnl_link *tmpl = rtnl_link_bridge_alloc();
	struct nl_addr *mac = nl_addr_build(AF_LLC, w->server_mac, 6);
	int rc;

	if (!tmpl || !mac) {
		rc = vdc_err_set(err, -ENOMEM, "cannot allocate bridge %s", name);
		goto out;
	}
	rtnl_link_set_name(tmpl, name);
	rtnl_link_set_addr(tmpl, mac);
	rtnl_link_set_mtu(tmpl, w->mtu);
	rc = link_make(n, tmpl, alias, out, err);
	if (rc == 0)
		log_info("network %s: made bridge %s", w->name, name);
out:
	nl_addr_put(mac);
	if (tmpl)
		rtnl_link_put(tmpl);
	return rc;
}

/* The bridge of `w`, made when missing (or when a link of ours by that name is no bridge). */
static int bridge_sync(struct hva_net *n, const struct hva_netdev_want *w, const char *alias,
		       struct rtnl_link **br, struct vdc_err *err)
{
	struct link_want lw = { alias, w->server_mac, w->mtu, 0 };
	char name[IFNAMSIZ];
	int rc;

	hva_net_bridge_name(w->vni, name);
	if (*br && !link_kind_is(*br, "bridge")) {
		log_info("network %s: %s is not a bridge; it is made again", w->name, name);
		rc = link_discard(n, br, err);
		if (rc < 0)
			return rc;
	}
	if (!*br) {
		rc = bridge_make(n, w, name, alias, br, err);
		if (rc < 0)
			return rc;
	}
	rc = bridge_sysctls(name, err);
	if (rc < 0)
		return rc;
	return link_ensure(n, *br, &lw, err);
}

/*
 * Whether VXLAN device `vx` has the settings that cannot be changed in
 * place: VNI, local address, port, no learning, no multicast group.
 */
static bool vxlan_matches(struct rtnl_link *vx, const struct hva_netdev_want *w)
{
	struct nl_addr *addr = NULL;
	uint32_t id, port, local = 0;
	bool same = true;

	if (!link_kind_is(vx, "vxlan"))
		return false;
	if (rtnl_link_vxlan_get_id(vx, &id) < 0 || id != w->vni)
		return false;
	if (rtnl_link_vxlan_get_port(vx, &port) < 0 || port != w->port)
		return false;
	if (rtnl_link_vxlan_get_learning(vx) > 0)
		return false;
	if (rtnl_link_vxlan_get_local(vx, &addr) == 0) {
		same = nl_addr_ipv4(addr, &local);
		nl_addr_put(addr);
	}
	if (!same || local != w->local)
		return false;
	addr = NULL;
	if (rtnl_link_vxlan_get_group(vx, &addr) == 0) {
		nl_addr_put(addr);
		return false;
	}
	return true;
}

static int vxlan_make(struct hva_net *n, const struct hva_netdev_want *w, const char *name,
		      const char *alias, struct rtnl_link **out, struct vdc_err *err)
{
	struct rtnl_link *tmpl = rtnl_link_vxlan_alloc();
	struct nl_addr *local = NULL;
	int rc;

	if (!tmpl || (w->local && !(local = nl_addr_of_ipv4(w->local)))) {
		rc = vdc_err_set(err, -ENOMEM, "cannot allocate VXLAN device %s", name);
		goto out;
	}
	rtnl_link_set_name(tmpl, name);
	rtnl_link_set_mtu(tmpl, w->mtu);
	rtnl_link_vxlan_set_id(tmpl, w->vni);
	if (local)
		rtnl_link_vxlan_set_local(tmpl, local);
	rtnl_link_vxlan_set_port(tmpl, w->port);
	rtnl_link_vxlan_set_learning(tmpl, 0);
	rc = link_make(n, tmpl, alias, out, err);
	if (rc == 0)
		log_info("network %s: made VXLAN device %s (VNI %u, port %u)", w->name, name, w->vni, w->port);
out:
	nl_addr_put(local);
	if (tmpl)
		rtnl_link_put(tmpl);
	return rc;
}

/* The VXLAN device of `w`, a port of bridge `br_index`, replaced when it was made otherwise. */
static int vxlan_sync(struct hva_net *n, const struct hva_netdev_want *w, const char *alias,
		      int br_index, struct rtnl_link **vx, struct vdc_err *err)
{
	struct link_want lw = { alias, NULL, w->mtu, br_index };
	char name[IFNAMSIZ];
	int rc;

	hva_net_vxlan_name(w->vni, name);
	if (*vx && !vxlan_matches(*vx, w)) {
		log_info("network %s: %s was made with other settings; it is made again", w->name, name);
		rc = link_discard(n, vx, err);
		if (rc < 0)
			return rc;
	}
	if (!*vx) {
		rc = vxlan_make(n, w, name, alias, vx, err);
		if (rc < 0)
			return rc;
	}
	rc = sysctl_ensure("ipv6", name, "disable_ipv6", "1", err);
	if (rc < 0)
		return rc;
	return link_ensure(n, *vx, &lw, err);
}

/*
 * The bridge holds the DHCP server's address as a /32 and no other IPv4
 * address: a /32 makes no connected route, so the host routes nothing
 * into or out of the network.
 */
static int addr_sync(struct hva_net *n, const struct hva_netdev_want *w, int ifindex, struct vdc_err *err)
{
	char name[IFNAMSIZ], text[INET_ADDRSTRLEN];
	struct nl_cache *cache = NULL;
	struct rtnl_addr *want = NULL;
	struct nl_addr *local = NULL;
	struct nl_object *o;
	bool have = false;
	uint32_t addr;
	int rc;

	hva_net_bridge_name(w->vni, name);
	rc = rtnl_addr_alloc_cache(request(n), &cache);
	if (rc < 0)
		return net_fail(n, rc, err, "cannot list the addresses of this host");
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;

		if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET)
			continue;
		if (!nl_addr_ipv4(rtnl_addr_get_local(a), &addr))
			continue;
		if (w->server && addr == w->server && rtnl_addr_get_prefixlen(a) == 32) {
			have = true;
			continue;
		}
		rc = rtnl_addr_delete(request(n), a, 0);
		if (rc < 0 && !nl_absent(n, rc)) {
			rc = net_fail(n, rc, err, "cannot remove %s/%d from %s", ipv4_text(addr, text),
				      rtnl_addr_get_prefixlen(a), name);
			goto out;
		}
		log_info("network %s: removed %s/%d from %s", w->name, ipv4_text(addr, text),
			 rtnl_addr_get_prefixlen(a), name);
	}
	rc = 0;
	if (!w->server || have)
		goto out;
	want = rtnl_addr_alloc();
	local = nl_addr_of_ipv4(w->server);
	if (!want || !local) {
		rc = vdc_err_set(err, -ENOMEM, "cannot allocate an address");
		goto out;
	}
	rtnl_addr_set_ifindex(want, ifindex);
	rtnl_addr_set_family(want, AF_INET);
	rtnl_addr_set_local(want, local);
	rtnl_addr_set_prefixlen(want, 32);
	rc = rtnl_addr_add(request(n), want, 0);
	if (rc < 0)
		rc = net_fail(n, rc, err, "cannot add %s/32 to %s", ipv4_text(w->server, text), name);
	else
		log_info("network %s: added %s/32 to %s", w->name, ipv4_text(w->server, text), name);
out:
	nl_addr_put(local);
	if (want)
		rtnl_addr_put(want);
	nl_cache_free(cache);
	return rc;
}

static int fdb_cmp(const void *pa, const void *pb)
{
	const struct hva_fdb_entry *a = pa, *b = pb;
	int c = memcmp(a->mac, b->mac, sizeof(a->mac));

	if (c)
		return c;
	return a->dst < b->dst ? -1 : a->dst > b->dst;
}

static bool mac_unicast(const unsigned char mac[6])
{
	static const unsigned char zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

/*
 * One neighbour of the dump. The entries this module makes are the
 * VXLAN device's own (NTF_SELF), permanent, with a destination and
 * nothing else: an entry with its own port, VNI, device or next hop,
 * and everything the bridge or the kernel holds, is someone else's.
 */
static int fdb_dump_one(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[NDA_MAX + 1];
	struct fdb_set *set = arg;
	struct hva_fdb_entry *e;
	struct ndmsg *ndm;
	uint32_t be;

	if (h->nlmsg_type != RTM_NEWNEIGH || nlmsg_parse(h, sizeof(*ndm), tb, NDA_MAX, NULL) < 0)
		return NL_SKIP;
	ndm = nlmsg_data(h);
	if (ndm->ndm_family != AF_BRIDGE || ndm->ndm_ifindex != set->ifindex ||
	    !(ndm->ndm_flags & NTF_SELF) || (ndm->ndm_flags & NTF_EXT_LEARNED) ||
	    !(ndm->ndm_state & NUD_PERMANENT))
		return NL_SKIP;
	if (!tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != 6 || !tb[NDA_DST] ||
	    nla_len(tb[NDA_DST]) != sizeof(be))
		return NL_SKIP;
	if (tb[NDA_PORT] || tb[NDA_VNI] || tb[NDA_IFINDEX] || tb[NDA_SRC_VNI] || tb[NDA_NH_ID])
		return NL_SKIP;
	set->e = xrealloc(set->e, (set->n + 1) * sizeof(*set->e));
	e = &set->e[set->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->mac, nla_data(tb[NDA_LLADDR]), 6);
	memcpy(&be, nla_data(tb[NDA_DST]), sizeof(be));
	e->dst = ntohl(be);
	return NL_OK;
}

/*
 * The FDB entries of ours on device `set->ifindex`, sorted. A raw
 * RTM_GETNEIGH dump rather than libnl's neighbour cache: an ifinfomsg
 * header with the device's index has the kernel send that port's
 * entries only (the cache holds every neighbour of every family), and
 * the attributes that tell an operator's entry from ours (NDA_PORT,
 * NDA_VNI, NDA_IFINDEX) are not in libnl's neighbour object.
 */
static int fdb_list(struct hva_net *n, struct fdb_set *set, const char *dev, struct vdc_err *err)
{
	struct ifinfomsg ifi;
	int rc = 0, tries;

	for (tries = 0; tries < DUMP_TRIES; tries++) {
		struct nl_cb *sock_cb = nl_socket_get_cb(n->sk);
		struct nl_cb *cb = nl_cb_clone(sock_cb);

		nl_cb_put(sock_cb);
		free(set->e);
		set->e = NULL;
		set->n = 0;
		if (!cb)
			return vdc_err_set(err, -ENOMEM, "cannot allocate a netlink callback");
		memset(&ifi, 0, sizeof(ifi));
		ifi.ifi_family = AF_BRIDGE;
		ifi.ifi_index = set->ifindex;
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fdb_dump_one, set);
		rc = nl_send_simple(request(n), RTM_GETNEIGH, NLM_F_DUMP, &ifi, sizeof(ifi));
		if (rc >= 0)
			rc = nl_recvmsgs(n->sk, cb);
		nl_cb_put(cb);
		if (rc != -NLE_DUMP_INTR)
			break;
	}
	if (rc < 0) {
		free(set->e);
		set->e = NULL;
		set->n = 0;
		return net_fail(n, rc, err, "cannot list the forwarding database of %s", dev);
	}
	if (set->n)
		qsort(set->e, set->n, sizeof(*set->e), fdb_cmp);
	return 0;
}

/* Add (RTM_NEWNEIGH) or remove (RTM_DELNEIGH) one entry of VXLAN device `ifindex`. */
static int fdb_change(struct hva_net *n, int cmd, int ifindex, const char *dev,
		      const struct hva_fdb_entry *e, struct vdc_err *err)
{
	char mac_buf[18], dst_buf[INET_ADDRSTRLEN];
	struct rtnl_neigh *neigh = rtnl_neigh_alloc();
	struct nl_addr *mac = nl_addr_build(AF_LLC, e->mac, 6);
	struct nl_addr *dst = nl_addr_of_ipv4(e->dst);
	int rc;

	if (!neigh || !mac || !dst) {
		rc = vdc_err_set(err, -ENOMEM, "cannot allocate a forwarding database entry");
		goto out;
	}
	rtnl_neigh_set_ifindex(neigh, ifindex);
	/* The destination first: it sets the family from the address, which AF_BRIDGE then overrides. */
	rtnl_neigh_set_dst(neigh, dst);
	rtnl_neigh_set_family(neigh, AF_BRIDGE);
	rtnl_neigh_set_lladdr(neigh, mac);
	rtnl_neigh_set_state(neigh, NUD_PERMANENT);
	rtnl_neigh_set_flags(neigh, NTF_SELF);
	if (cmd == RTM_NEWNEIGH) {
		/* APPEND: the flood entries of several peers share the all-zero MAC. */
		rc = rtnl_neigh_add(request(n), neigh, NLM_F_CREATE | NLM_F_APPEND);
		if (rc < 0)
			rc = net_fail(n, rc, err, "cannot add %s dst %s to the forwarding database of %s",
				      mac_text(e->mac, mac_buf), ipv4_text(e->dst, dst_buf), dev);
	} else {
		rc = rtnl_neigh_delete(request(n), neigh, 0);
		if (rc < 0 && nl_absent(n, rc))
			rc = 0;
		if (rc < 0)
			rc = net_fail(n, rc, err, "cannot remove %s dst %s from the forwarding database of %s",
				      mac_text(e->mac, mac_buf), ipv4_text(e->dst, dst_buf), dev);
	}
	if (rc == 0)
		log_debug("%s: %s %s dst %s", dev, cmd == RTM_NEWNEIGH ? "added" : "removed",
			  mac_text(e->mac, mac_buf), ipv4_text(e->dst, dst_buf));
out:
	nl_addr_put(dst);
	nl_addr_put(mac);
	if (neigh)
		rtnl_neigh_put(neigh);
	return rc;
}

/*
 * The entries of `w`, sorted and without repeats. A unicast MAC lives
 * on one host: two destinations for it would have each pass replace
 * the other.
 */
static int fdb_wanted(const struct hva_netdev_want *w, struct hva_fdb_entry **out, size_t *n_out,
		      struct vdc_err *err)
{
	char mac_buf[18], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	struct hva_fdb_entry *e;
	size_t i, n = 0;

	*out = NULL;
	*n_out = 0;
	if (!w->n_fdb)
		return 0;
	e = xcalloc(w->n_fdb, sizeof(*e));
	memcpy(e, w->fdb, w->n_fdb * sizeof(*e));
	qsort(e, w->n_fdb, sizeof(*e), fdb_cmp);
	for (i = 0; i < w->n_fdb; i++) {
		if (e[i].dst == 0) {
			int rc = vdc_err_set(err, -EINVAL, "the forwarding database entry of %s has no destination",
					     mac_text(e[i].mac, mac_buf));

			free(e);
			return rc;
		}
		if (n && fdb_cmp(&e[n - 1], &e[i]) == 0)
			continue;
		if (n && memcmp(e[n - 1].mac, e[i].mac, 6) == 0 && mac_unicast(e[i].mac)) {
			int rc = vdc_err_set(err, -EINVAL, "MAC %s is given two destinations, %s and %s",
					     mac_text(e[i].mac, mac_buf), ipv4_text(e[n - 1].dst, a),
					     ipv4_text(e[i].dst, b));

			free(e);
			return rc;
		}
		e[n++] = e[i];
	}
	*out = e;
	*n_out = n;
	return 0;
}

/* Is `e` among the `n` entries of the sorted `set` (which may be NULL when empty)? */
static bool fdb_has(const struct hva_fdb_entry *set, size_t n, const struct hva_fdb_entry *e)
{
	return n && bsearch(e, set, n, sizeof(*set), fdb_cmp);
}

/*
 * Exactly the entries of `want` on VXLAN device `ifindex`: first the
 * entries of ours that are not wanted go (a guest that moved to another
 * host leaves its old destination first, as an existing unicast entry is
 * not appended to), then the missing ones are added. Entries already
 * there are not touched.
 */
static int fdb_sync(struct hva_net *n, const struct hva_fdb_entry *want, size_t n_want, int ifindex,
		    const char *dev, struct vdc_err *err)
{
	struct fdb_set have = { ifindex, NULL, 0 };
	size_t i;
	int rc;

	rc = fdb_list(n, &have, dev, err);
	for (i = 0; rc == 0 && i < have.n; i++)
		if (!fdb_has(want, n_want, &have.e[i]))
			rc = fdb_change(n, RTM_DELNEIGH, ifindex, dev, &have.e[i], err);
	for (i = 0; rc == 0 && i < n_want; i++)
		if (!fdb_has(have.e, have.n, &want[i]))
			rc = fdb_change(n, RTM_NEWNEIGH, ifindex, dev, &want[i], err);
	free(have.e);
	return rc;
}

static int want_check(const struct hva_netdev_want *w, struct vdc_err *err)
{
	if (w->vni < 1 || w->vni > HVA_VNI_MAX)
		return vdc_err_set(err, -EINVAL, "VNI %u is not between 1 and %u", w->vni, HVA_VNI_MAX);
	if (w->mtu < MTU_MIN || w->mtu > 65535)
		return vdc_err_set(err, -EINVAL, "MTU %u is not between %d and 65535", w->mtu, MTU_MIN);
	if (w->port == 0)
		return vdc_err_set(err, -EINVAL, "the VXLAN port is 0");
	if (w->n_fdb && !w->fdb)
		return vdc_err_set(err, -EINVAL, "%zu forwarding database entries are announced but none given",
				   w->n_fdb);
	return 0;
}

int hva_net_sync(struct hva_net *n, const char *dc, const struct hva_netdev_want *want,
		 struct vdc_err *err)
{
	char prefix[ALIAS_MAX], alias[ALIAS_MAX], br_name[IFNAMSIZ], vx_name[IFNAMSIZ];
	struct rtnl_link *br = NULL, *vx = NULL;
	struct hva_fdb_entry *fdb = NULL;
	size_t n_fdb = 0;
	int rc;

	rc = want_check(want, err);
	if (rc == 0)
		rc = dc_prefix(dc, prefix, err);
	if (rc == 0 && snprintf(alias, sizeof(alias), "%snet:%s", prefix, want->name) >= (int)sizeof(alias))
		rc = vdc_err_set(err, -ENAMETOOLONG, "the link alias is too long");
	if (rc == 0)
		rc = fdb_wanted(want, &fdb, &n_fdb, err);
	if (rc < 0)
		goto out;
	hva_net_bridge_name(want->vni, br_name);
	hva_net_vxlan_name(want->vni, vx_name);
	/* Both names are checked before anything is made, so a foreign link stops the network whole. */
	rc = link_find(n, br_name, &br, err);
	if (rc == 0)
		rc = link_find(n, vx_name, &vx, err);
	if (rc == 0)
		rc = link_claimable(br, prefix, bridge_half_made(br, want), err);
	if (rc == 0)
		rc = link_claimable(vx, prefix, vx && vxlan_matches(vx, want), err);
	if (rc == 0)
		rc = bridge_sync(n, want, alias, &br, err);
	if (rc == 0)
		rc = vxlan_sync(n, want, alias, rtnl_link_get_ifindex(br), &vx, err);
	if (rc == 0)
		rc = addr_sync(n, want, rtnl_link_get_ifindex(br), err);
	if (rc == 0)
		rc = fdb_sync(n, fdb, n_fdb, rtnl_link_get_ifindex(vx), vx_name, err);
out:
	if (rc < 0)
		vdc_err_wrap(err, rc, "network %s", want->name);
	free(fdb);
	if (br)
		rtnl_link_put(br);
	if (vx)
		rtnl_link_put(vx);
	return rc;
}

/* The VNI of device name `name` of kind `kind` ('b' bridge, 'x' VXLAN); 0 when it is not such a name. */
static uint32_t name_vni(const char *name, char kind)
{
	unsigned long vni;
	char *end;

	if (!name || strncmp(name, "vdc", 3) != 0 || name[3] != kind || name[4] < '1' || name[4] > '9')
		return 0;
	vni = strtoul(name + 4, &end, 10);
	if (*end || vni > HVA_VNI_MAX)
		return 0;
	return (uint32_t)vni;
}

static bool vni_in(uint32_t vni, const uint32_t *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == vni)
			return true;
	return false;
}

/* The VNI of `link` when it is a bridge or VXLAN device of ours that `keep` does not hold; else 0. */
static uint32_t prunable(struct rtnl_link *link, const char *prefix, char kind, const uint32_t *keep,
			 size_t n_keep)
{
	uint32_t vni = name_vni(rtnl_link_get_name(link), kind);

	if (!vni || !link_ours(link, prefix) || vni_in(vni, keep, n_keep))
		return 0;
	return vni;
}

/* A port of bridge `br` (VNI `vni`) other than its own VXLAN device, or NULL. */
static struct rtnl_link *bridge_other_port(struct nl_cache *links, struct rtnl_link *br, uint32_t vni,
					   const char *prefix)
{
	int ifindex = rtnl_link_get_ifindex(br);
	struct nl_object *o;

	for (o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;

		if (rtnl_link_get_master(l) != ifindex)
			continue;
		if (name_vni(rtnl_link_get_name(l), 'x') == vni && link_ours(l, prefix))
			continue;
		return l;
	}
	return NULL;
}

/*
 * The first failure of a prune goes to the caller, the later ones to the
 * log; a bridge still in use is a warning, as the next prune removes it.
 */
static void prune_failed(int *first, struct vdc_err *err, const struct vdc_err *e)
{
	if (*first == 0) {
		*first = e->code;
		if (err)
			*err = *e;
	} else if (e->code == -EBUSY) {
		log_warn("%s", e->msg);
	} else {
		log_error("%s", e->msg);
	}
}

int hva_net_prune(struct hva_net *n, const char *dc, const uint32_t *keep, size_t n_keep,
		  struct vdc_err *err)
{
	static const char kinds[] = { 'x', 'b' };
	char prefix[ALIAS_MAX];
	struct nl_cache *links = NULL;
	uint32_t *busy = NULL;
	size_t n_busy = 0, k;
	struct nl_object *o;
	int first = 0, rc;

	rc = dc_prefix(dc, prefix, err);
	if (rc < 0)
		return rc;
	rc = rtnl_link_alloc_cache(request(n), AF_UNSPEC, &links);
	if (rc < 0)
		return net_fail(n, rc, err, "cannot list the links of this host");
	/* A bridge a guest's tap is still in stays, and so does its VXLAN device, until the tap is gone. */
	for (o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *br = (struct rtnl_link *)o, *port;
		uint32_t vni = prunable(br, prefix, 'b', keep, n_keep);
		struct vdc_err e = VDC_ERR_INIT;

		if (!vni || !(port = bridge_other_port(links, br, vni, prefix)))
			continue;
		busy = xrealloc(busy, (n_busy + 1) * sizeof(*busy));
		busy[n_busy++] = vni;
		vdc_err_set(&e, -EBUSY, "bridge %s of a removed network still has port %s; it is removed once the port is gone",
			    rtnl_link_get_name(br), rtnl_link_get_name(port));
		prune_failed(&first, err, &e);
	}
	/* The VXLAN devices first, so that a bridge goes without ports. */
	for (k = 0; k < sizeof(kinds); k++)
		for (o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
			struct rtnl_link *l = (struct rtnl_link *)o;
			uint32_t vni = prunable(l, prefix, kinds[k], keep, n_keep);
			struct vdc_err e = VDC_ERR_INIT;

			if (!vni || vni_in(vni, busy, n_busy))
				continue;
			if (link_remove(n, l, &e) < 0) {
				prune_failed(&first, err, &e);
				continue;
			}
			log_info("removed %s (%s)", rtnl_link_get_name(l), rtnl_link_get_ifalias(l));
		}
	free(busy);
	nl_cache_free(links);
	return first;
}

int hva_net_addr_mtu(struct hva_net *n, uint32_t addr, unsigned *mtu, struct vdc_err *err)
{
	char text[INET_ADDRSTRLEN];
	struct nl_cache *cache = NULL;
	struct rtnl_link *link = NULL;
	struct nl_object *o;
	int ifindex = 0, rc;
	uint32_t a;

	rc = rtnl_addr_alloc_cache(request(n), &cache);
	if (rc < 0)
		return net_fail(n, rc, err, "cannot list the addresses of this host");
	for (o = nl_cache_get_first(cache); o && !ifindex; o = nl_cache_get_next(o))
		if (nl_addr_ipv4(rtnl_addr_get_local((struct rtnl_addr *)o), &a) && a == addr)
			ifindex = rtnl_addr_get_ifindex((struct rtnl_addr *)o);
	nl_cache_free(cache);
	if (!ifindex)
		return vdc_err_set(err, -ENOENT, "no link of this host holds address %s", ipv4_text(addr, text));
	rc = rtnl_link_get_kernel(request(n), ifindex, NULL, &link);
	if (rc < 0)
		return net_fail(n, rc, err, "cannot look up the link that holds %s", ipv4_text(addr, text));
	*mtu = rtnl_link_get_mtu(link);
	rtnl_link_put(link);
	return 0;
}
