/*
 * DHCP for virtual networks: one dnsmasq per network per host, on the
 * network's bridge, serving only the MAC and address pairs of the
 * network's nics on this host (docs/networks.md). dnsmasq is started
 * with an argv (fork and execve, never a shell), daemonizes, and is not
 * the agent's child: a kill -9 of the agent leaves it serving, and the
 * agent adopts it when it starts again.
 *
 * Its files are in STATE/networks/VNI/:
 *
 *   hosts          dhcp-hostsfile: MAC,ADDRESS,NAME a line
 *   opts           dhcp-optsfile: router, DNS servers, MTU
 *   dnsmasq.pid    written by dnsmasq
 *   dnsmasq.log    what it logs (each lease it hands out)
 *
 * A dnsmasq is this agent's when its /proc/PID/cmdline names this
 * folder's pid file; it is kept when its argv is the one wanted (hosts
 * and opts are written anew and it is sent SIGHUP, which makes it read
 * them again), and replaced otherwise, or when an address of its hosts
 * now goes with another MAC (a nic's MAC was changed, docs/networks.md):
 * its leases are in memory only (--leasefile-ro), and it would not give
 * the address to the new MAC while the old one's lease lasts.
 */
#ifndef VDC_HVA_DHCP_H
#define VDC_HVA_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desired.h"
#include "err.h"
#include "strbuf.h"

/* One nic dnsmasq answers. */
struct hva_dhcp_host {
	char mac[18];
	uint32_t ip;                   /* host order */
	char name[VDC_NAME_MAX + 1];   /* the instance's name */
};

/* The DHCP server of one network. */
struct hva_dhcp_want {
	const struct hva_network_spec *net;
	const struct hva_dhcp_host *hosts;
	size_t n_hosts;
};

/* The argv of dnsmasq for `w` in folder `dir` (pure; free with hva_dhcp_argv_free). */
char **hva_dhcp_argv(const struct hva_dhcp_want *w, const char *dir);
void hva_dhcp_argv_free(char **argv);
/* The texts of `hosts` and `opts` (pure). */
void hva_dhcp_hosts_text(const struct hva_dhcp_want *w, struct strbuf *out);
void hva_dhcp_opts_text(const struct hva_dhcp_want *w, struct strbuf *out);

/* Does an address of the hosts text `old` (`len` bytes) go with another MAC in `w`? (pure) */
bool hva_dhcp_rebinds(const char *old, size_t len, const struct hva_dhcp_want *w);

/* Make the network's dnsmasq run as `w` says (its bridge must have the server address). */
int hva_dhcp_sync(const char *statedir, const struct hva_dhcp_want *w, struct vdc_err *err);

/*
 * Stop the dnsmasq of every network folder under STATE/networks whose
 * VNI is not among `keep`, and remove the folder.
 */
void hva_dhcp_prune(const char *statedir, const uint32_t *keep, size_t n_keep);

#endif
