/*
 * The model as the backend's unit tests see it (test_placement,
 * test_volumes, test_networks): the real kinds of vdcfs/ and the real
 * sqlite store in a private folder, the write lock held through each
 * test as model.h asks, and the small helpers every such test uses to
 * find an object and set an attribute, to read a run file, to join a
 * host and to play a storage agent's report. Include it after cmocka.h.
 */
#ifndef VDC_TESTS_UNIT_MODEL_H
#define VDC_TESTS_UNIT_MODEL_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "agent_doc.h"
#include "host.h"
#include "kinds.h"
#include "place.h"
#include "reconcile.h"
#include "unit.h"

/* The kinds, in the order vdcfs registers them (targets before sources). */
static const struct vdc_kind *const unit_kinds[] = {
	&vdc_kind_images, &vdc_kind_ssh_keys, &vdc_kind_security_groups, &vdc_kind_networks,
	&vdc_kind_volumes, &vdc_kind_instances, &vdc_kind_hosts, &vdc_kind_quotas, NULL,
};

/*
 * A fresh store in a private folder (unit_tmpdir: `dir`, `n` bytes) for
 * test NAME, opened with the product's host timeout and heartbeat, and
 * the write lock taken. 0, or -1 for cmocka's setup to fail.
 */
static inline int unit_model_setup(char *dir, size_t n, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;

	if (unit_tmpdir(dir, n, name) < 0)
		return -1;
	vdc_hosts_configure(15, 5);
	if (vdc_model_open(dir, unit_kinds, false, &err) < 0)
		return -1;
	vdc_model_wrlock();
	return 0;
}

/* The lock let go, the store closed, its folder removed. */
static inline int unit_model_teardown(const char *dir)
{
	vdc_model_unlock();
	vdc_model_close();
	return unit_rmtree(dir);
}

/* Close the store and open it again, as a restart of vdcfs does; the write lock is held again after. */
static inline void unit_model_reopen(const char *dir)
{
	struct vdc_err err = VDC_ERR_INIT;

	vdc_model_unlock();
	vdc_model_close();
	assert_int_equal(vdc_model_open(dir, unit_kinds, false, &err), 0);
	vdc_model_wrlock();
}

/* The top-level object NAME of kind `k`, or NULL. */
static inline struct vdc_obj *unit_find(const struct vdc_kind *k, const char *name)
{
	return vdc_obj_find(k, NULL, name, strlen(name));
}

/* The index of attribute NAME of `o`'s kind (the test fails without one). */
static inline int unit_attr(const struct vdc_obj *o, const char *name)
{
	int a = vdc_attr_index(o->kind, name, strlen(name));

	assert_true(a >= 0);
	return a;
}

/* Set attribute NAME of `o` as a write would; the test fails when it is refused. */
static inline void unit_set(struct vdc_obj *o, const char *name, const char *value)
{
	struct vdc_err err = VDC_ERR_INIT;

	assert_int_equal(vdc_attr_set(o, (unsigned)unit_attr(o, name), value, strlen(value), &err), 0);
}

/* ---- hosts and their agents, played by calling what the agent server calls ---- */

#define UNIT_PORTAL "198.51.100.17:3260"

/* What a show function of run/ prints for `o` (a static buffer: one at a time). */
static inline const char *unit_shown(void (*show)(const struct vdc_obj *, struct strbuf *), const struct vdc_obj *o)
{
	static char buf[512];
	__do_strbuf struct strbuf sb = STRBUF_INIT;

	show(o, &sb);
	snprintf(buf, sizeof(buf), "%s", sb.buf);
	return buf;
}

/* Host NAME joins as `role`; the test fails when it cannot. */
static inline struct vdc_obj *unit_join(const char *name, enum vdc_host_role role)
{
	struct vdc_err err = VDC_ERR_INIT;
	char t[65];

	assert_int_equal(vdc_host_join(name, role, t, &err), 0);
	return vdc_host_find(name);
}

/*
 * A storage host's report, as serve_sta_report records it: `disk_mib`
 * offered, UNIT_PORTAL, and `volumes`, the JSON text of the report's list
 * of volumes (printf-style, so ids can be put in).
 */
static inline void unit_sta_report(struct vdc_obj *host, uint64_t disk_mib, const char *volumes, ...)
	__attribute__((format(printf, 3, 4)));
static inline void unit_sta_report(struct vdc_obj *host, uint64_t disk_mib, const char *volumes, ...)
{
	struct vdc_host *h = vdc_host_of(host);
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_doc_sta_report r;
	char text[2048], doc[2304];
	va_list ap;

	va_start(ap, volumes);
	vsnprintf(text, sizeof(text), volumes, ap);
	va_end(ap);
	snprintf(doc, sizeof(doc), "{\"epoch\": 1, \"seq\": 1, \"facts\": {\"disk_mib\": %" PRIu64
		 ", \"portal\": \"%s\"}, \"volumes\": %s}", disk_mib, UNIT_PORTAL, text);
	if (vdc_doc_sta_report_parse(doc, strlen(doc), &r, &err) < 0)
		fail_msg("bad report in the test: %s: %s", err.msg, text);
	h->disk = disk_mib << 20;
	snprintf(h->portal, sizeof(h->portal), "%s", UNIT_PORTAL);
	snprintf(h->driver, sizeof(h->driver), "tgt, vdc-sta test");
	vdc_host_report_sta(host, r.vols, r.n);
	vdc_doc_sta_report_release(&r);
}

/* The image checksums of the agent server: none known. */
static inline bool unit_no_sum(const struct vdc_obj *image, char hex[65], off_t *size, bool *qcow2)
{
	(void)image;
	hex[0] = 0;
	*size = 0;
	*qcow2 = false;
	return false;
}

#endif
