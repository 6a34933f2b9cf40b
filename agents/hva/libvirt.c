/*
 * The libvirt connection, its event loop and the domain events.
 *
 * libvirt's default event loop runs in a thread of its own; the lifecycle
 * and reboot callbacks only record what happened and wake the worker and
 * the reporter, so a report follows each event at once (no polling). A
 * connection that libvirt closes (libvirtd restarted) is noticed by the
 * close callback and by keepalives; the worker then connects again, and
 * the guests, which belong to libvirtd, run on meanwhile.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "hva.h"
#include "log.h"

static pthread_t event_thread;
static bool event_thread_started;

/* libvirt prints every error on stderr by default; the sentences go to run/err instead. */
static void quiet(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;
}

/*
 * Call it right after the failed libvirt call: any libvirt call, even
 * virDomainGetName() among the arguments, clears the last error.
 */
int hva_virt_err(struct vdc_err *err, int code, const char *fmt, ...)
{
	char what[VDC_ERR_MSG_MAX];
	const char *why = virGetLastErrorMessage();
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!why || !*why || strcmp(why, "no error") == 0)
		return vdc_err_set(err, code, "%s", what);
	/* libvirt's messages may end in a full stop or a newline; run/err's do not. */
	len = strlen(why);
	while (len && (why[len - 1] == '.' || why[len - 1] == '\n' || why[len - 1] == ' '))
		len--;
	return vdc_err_set(err, code, "%s: %.*s", what, (int)len, why);
}

static void *event_loop(void *arg)
{
	struct hva *h = arg;

	while (!vdc_agent_core_quitting(&h->core)) {
		if (virEventRunDefaultImpl() < 0)
			log_error("libvirt's event loop failed: %s", virGetLastErrorMessage());
	}
	return NULL;
}

/* Does nothing; it makes the event loop come round at least every second to see `quit`. */
static void tick(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

int hva_libvirt_init(struct hva *h, struct vdc_err *err)
{
	int rc;

	virSetErrorFunc(NULL, quiet);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0)
		return hva_virt_err(err, -EIO, "cannot set up libvirt");
	if (virEventAddTimeout(1000, tick, NULL, NULL) < 0)
		return hva_virt_err(err, -EIO, "cannot add a timer to libvirt's event loop");
	rc = pthread_create(&event_thread, NULL, event_loop, h);
	if (rc)
		return vdc_err_set(err, -rc, "cannot start libvirt's event thread: %s", strerror(rc));
	event_thread_started = true;
	return 0;
}

static const char *lifecycle_word(int event)
{
	switch (event) {
	case VIR_DOMAIN_EVENT_DEFINED: return "defined";
	case VIR_DOMAIN_EVENT_UNDEFINED: return "undefined";
	case VIR_DOMAIN_EVENT_STARTED: return "started";
	case VIR_DOMAIN_EVENT_SUSPENDED: return "suspended";
	case VIR_DOMAIN_EVENT_RESUMED: return "resumed";
	case VIR_DOMAIN_EVENT_STOPPED: return "stopped";
	case VIR_DOMAIN_EVENT_SHUTDOWN: return "shutdown";
	case VIR_DOMAIN_EVENT_PMSUSPENDED: return "pmsuspended";
	case VIR_DOMAIN_EVENT_CRASHED: return "crashed";
	default: return "event";
	}
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct hva *h = opaque;

	(void)conn;
	log_debug("domain %s: %s (detail %d)", virDomainGetName(dom), lifecycle_word(event), detail);
	pthread_mutex_lock(&h->core.lock);
	vdc_agent_core_kick_locked(&h->core, true, true);
	pthread_mutex_unlock(&h->core.lock);
	return 0;
}

static void on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
	struct hva *h = opaque;
	const char *name = virDomainGetName(dom);

	(void)conn;
	log_debug("domain %s: rebooted", name);
	pthread_mutex_lock(&h->core.lock);
	h->rebooted = xrealloc(h->rebooted, (h->n_rebooted + 1) * sizeof(*h->rebooted));
	snprintf(h->rebooted[h->n_rebooted++], sizeof(*h->rebooted), "%s", name ? name : "");
	vdc_agent_core_kick_locked(&h->core, true, true);
	pthread_mutex_unlock(&h->core.lock);
}

/* A device left a running guest (an unplug completed): the volume is detached. */
static void on_device_removed(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
	struct hva *h = opaque;

	(void)conn;
	log_debug("domain %s: device %s removed", virDomainGetName(dom), alias);
	pthread_mutex_lock(&h->core.lock);
	vdc_agent_core_kick_locked(&h->core, true, true);
	pthread_mutex_unlock(&h->core.lock);
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct hva *h = opaque;

	(void)conn;
	log_warn("the connection to libvirt closed (reason %d); connecting again", reason);
	pthread_mutex_lock(&h->core.lock);
	h->conn_lost = true;
	vdc_agent_core_kick_locked(&h->core, true, false);
	pthread_mutex_unlock(&h->core.lock);
}

int hva_libvirt_connect(struct hva *h, struct vdc_err *err)
{
	virConnectPtr conn;
	int lc, rb, rm;

	conn = virConnectOpen(h->opt.uri);
	if (!conn)
		return hva_virt_err(err, -ECONNREFUSED, "cannot connect to libvirt at %s", h->opt.uri);
	if (virConnectRegisterCloseCallback(conn, on_close, h, NULL) < 0)
		log_warn("libvirt does not tell when its connection closes: %s", virGetLastErrorMessage());
	/* Keepalives notice a libvirtd that is gone without closing the socket. */
	if (virConnectSetKeepAlive(conn, 5, 3) < 0)
		log_debug("no keepalive on the libvirt connection: %s", virGetLastErrorMessage());
	lc = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), h, NULL);
	rb = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_REBOOT,
					      VIR_DOMAIN_EVENT_CALLBACK(on_reboot), h, NULL);
	rm = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
					      VIR_DOMAIN_EVENT_CALLBACK(on_device_removed), h, NULL);
	if (lc < 0 || rb < 0 || rm < 0) {
		hva_virt_err(err, -EIO, "cannot register for libvirt's domain events");
		if (lc >= 0)
			virConnectDomainEventDeregisterAny(conn, lc);
		if (rb >= 0)
			virConnectDomainEventDeregisterAny(conn, rb);
		if (rm >= 0)
			virConnectDomainEventDeregisterAny(conn, rm);
		virConnectUnregisterCloseCallback(conn, on_close);
		virConnectClose(conn);
		return err->code;
	}
	pthread_mutex_lock(&h->conn_lock);
	h->conn = conn;
	h->cb_lifecycle = lc;
	h->cb_reboot = rb;
	h->cb_removed = rm;
	pthread_mutex_unlock(&h->conn_lock);
	pthread_mutex_lock(&h->core.lock);
	h->conn_lost = false;
	pthread_mutex_unlock(&h->core.lock);
	return 0;
}

virConnectPtr hva_libvirt_get(struct hva *h)
{
	virConnectPtr conn;

	pthread_mutex_lock(&h->conn_lock);
	conn = h->conn;
	if (conn)
		virConnectRef(conn);
	pthread_mutex_unlock(&h->conn_lock);
	return conn;
}

void hva_libvirt_drop(struct hva *h)
{
	virConnectPtr conn;

	pthread_mutex_lock(&h->conn_lock);
	conn = h->conn;
	h->conn = NULL;
	if (conn) {
		/* On a dead connection these fail; the references go all the same. */
		virConnectDomainEventDeregisterAny(conn, h->cb_lifecycle);
		virConnectDomainEventDeregisterAny(conn, h->cb_reboot);
		virConnectDomainEventDeregisterAny(conn, h->cb_removed);
		virConnectUnregisterCloseCallback(conn, on_close);
	}
	pthread_mutex_unlock(&h->conn_lock);
	if (conn)
		virConnectClose(conn);
}

void hva_libvirt_close(struct hva *h)
{
	hva_libvirt_drop(h);
	if (event_thread_started)
		pthread_join(event_thread, NULL);
	event_thread_started = false;
}

int hva_domain_meta(virDomainPtr dom, struct hva_meta *meta)
{
	char *xml;
	int rc;

	xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, HVA_META_NS, VIR_DOMAIN_AFFECT_CONFIG);
	/* A domain arriving by live migration is transient until it has arrived: its live definition. */
	if (!xml && virDomainIsPersistent(dom) == 0)
		xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, HVA_META_NS, VIR_DOMAIN_AFFECT_LIVE);
	if (!xml)
		return -ENODATA;
	rc = hva_meta_parse(xml, meta, NULL);
	free(xml);
	return rc;
}

int hva_domain_meta_set(virDomainPtr dom, const struct hva_meta *meta, struct vdc_err *err)
{
	struct strbuf xml = STRBUF_INIT;
	unsigned flags = VIR_DOMAIN_AFFECT_CONFIG;
	const char *name = virDomainGetName(dom);
	int rc = 0;

	if (virDomainIsActive(dom) == 1)
		flags |= VIR_DOMAIN_AFFECT_LIVE;
	hva_meta_xml(meta, false, &xml);
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml.buf, HVA_META_PREFIX,
				 HVA_META_NS, flags) < 0)
		rc = hva_virt_err(err, -EIO, "cannot record the counters in domain %s", name);
	strbuf_release(&xml);
	return rc;
}
