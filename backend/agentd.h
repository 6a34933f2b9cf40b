/*
 * Layer: the top, beside the front end: it calls reconcile.h and the
 * kinds; only vdcfs calls it (docs/HACKING.md, "Layers").
 *
 * The agent server (docs/agent-protocol.md): agents dial in over HTTPS,
 * join with the data center's join token, long-poll their host's desired
 * state and report what they observe.
 *
 * vdc_agentd_prepare() runs before vdcfs goes to the background, so a bad
 * listen address or an unreadable certificate is reported on the terminal;
 * vdc_agentd_start() runs after, with the model open.
 */
#ifndef VDC_AGENTD_H
#define VDC_AGENTD_H

#include "err.h"
#include "strbuf.h"

/* Where agents dial when nothing else is said. */
#define VDC_AGENTD_LISTEN "0.0.0.0:7443"

/* What vdcfs's options say of the agent server (-o listen, advertise, heartbeat, host-timeout). */
struct vdc_agentd_opts {
	const char *listen;          /* ADDR:PORT; port 0 picks one; NULL: see below */
	const char *advertise;       /* HOST:PORT hosts/join tells agents to dial; NULL: the bound one */
	unsigned heartbeat_s;        /* asked of agents between reports */
	unsigned host_timeout_s;     /* of silence before a host is unknown */
};

/*
 * Load or make the certificate in STATE/tls/ and bind `o->listen`.
 * Without it, the address kept in STATE/listen by an earlier mount, else
 * VDC_AGENTD_LISTEN or, when another program holds that port, a free port
 * of the same address. The address bound is kept in STATE/listen. The
 * hosts' timing is set from `o`.
 */
int vdc_agentd_prepare(const char *statedir, const struct vdc_agentd_opts *o, struct vdc_err *err);
/* Make the data center's secrets if needed and serve. */
int vdc_agentd_start(struct vdc_err *err);
void vdc_agentd_stop(void);
/* The text of hosts/join: the one command that joins a host. */
void vdc_agentd_show_join(struct strbuf *out);

#endif
