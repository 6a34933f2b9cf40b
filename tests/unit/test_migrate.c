/*
 * Unit tests for moving instances between hypervisors (kinds/migrate.c,
 * docs/storage.md, "Moving"): `migrate` of a running instance asks the
 * destination to make ready ("incoming"), then the source to migrate
 * ("migrate"), lets both hypervisors into the disk's ACL meanwhile, and
 * places the instance on the destination when the source reports it
 * gone there, or keeps it with the reason when the move failed; the
 * steps survive a restart of vdcfs. And the data center's CA issues
 * certificates a libvirt peer accepts (backend/tls.c). The real kinds
 * and store, as test_disk_snapshots.c; the agents are played by calling
 * what the agent server calls for their reports.
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
#include <time.h>

#include <arpa/inet.h>
#include <gnutls/x509.h>
#include <jansson.h>

#include "agent_doc.h"
#include "disk.h"
#include "host.h"
#include "instance.h"
#include "kinds.h"
#include "lun.h"
#include "migrate.h"
#include "place.h"
#include "reconcile.h"
#include "tls.h"
#include "unit_model.h"
#include "wire.h"

#define DC "8d7f0a1b2c3d4e5f8d7f0a1b2c3d4e5f"
#define PORTAL UNIT_PORTAL
#define ADDR_A "198.51.100.18"
#define ADDR_B "198.51.100.19"
#define MIB(n) ((uint64_t)(n) << 20)

static char dir[256];

static int setup(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;

	(void)state;
	if (unit_model_setup(dir, sizeof(dir), "migrate") < 0)
		return -1;
	return vdc_model_meta_put("dc", DC, &err) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_model_teardown(dir);
}




/* A hypervisor's report of one instance (or none when state is NULL). */
static void hva_report(struct vdc_obj *host, const struct vdc_obj *inst, const char *state, uint64_t migrated,
		       const char *err, const char *progress)
{
	struct vdc_host *h = vdc_host_of(host);
	struct vdc_report_inst r = { .id = inst ? inst->id : 0, .state = state, .err = err,
				     .migrated = migrated, .progress = progress };

	h->cpus = 4;
	h->memory = MIB(4096);
	vdc_host_report(host, &r, state ? 1 : 0);
}


/* Instance `id`'s entry in hypervisor `host`'s desired state (a new reference), or NULL. */
static json_t *hva_entry(struct vdc_obj *host, int64_t id)
{
	char *text = vdc_wire_desired(host, unit_no_sum);
	json_t *doc = json_loads(text, 0, NULL), *v, *found = NULL;
	size_t i;

	free(text);
	assert_non_null(doc);
	json_array_foreach(json_object_get(doc, "instances"), i, v)
		if (json_integer_value(json_object_get(v, "id")) == id)
			found = json_incref(v);
	json_decref(doc);
	return found;
}

/* How many initiators the disk of `inst` lets in on storage host `s1`. */
static size_t disk_initiators(struct vdc_obj *s1, const struct vdc_obj *inst, const char *iqn)
{
	json_t *list = vdc_sta_desired_volumes(s1, unit_no_sum), *v, *ini;
	size_t i, j, n = 0;
	bool found = iqn == NULL;

	json_array_foreach(list, i, v) {
		if (json_integer_value(json_object_get(v, "id")) != inst->id)
			continue;
		ini = json_object_get(v, "initiators");
		n = json_array_size(ini);
		for (j = 0; iqn && j < n; j++)
			found |= !strcmp(json_string_value(json_array_get(ini, j)), iqn);
	}
	json_decref(list);
	return found ? n : 0;
}

struct dc {
	struct vdc_obj *s1, *ha, *hb, *web;
};

/* Two hypervisors, a storage host, and web1 running on ha from its disk on s1. */
static void running_instance(struct dc *dc)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *img;

	dc->s1 = unit_join("s1", VDC_ROLE_STA);
	unit_sta_report(dc->s1, 10240, "[]");
	dc->ha = unit_join("ha", VDC_ROLE_HVA);
	dc->hb = unit_join("hb", VDC_ROLE_HVA);
	snprintf(vdc_host_of(dc->ha)->underlay, 16, "%s", ADDR_A);
	snprintf(vdc_host_of(dc->hb)->underlay, 16, "%s", ADDR_B);
	hva_report(dc->ha, NULL, NULL, 0, NULL, NULL);
	hva_report(dc->hb, NULL, NULL, 0, NULL, NULL);
	assert_int_equal(vdc_obj_create(&vdc_kind_images, NULL, "tiny", 4, 0, 0, &img, &err), 0);
	assert_int_equal(vdc_obj_create(&vdc_kind_instances, NULL, "web1", 4, 0, 0, &dc->web, &err), 0);
	assert_int_equal(vdc_link_set(dc->web, (unsigned)unit_attr(dc->web, "image"), "tiny", 0, &err), 0);
	unit_set(dc->web, "disk-size", "64M");
	unit_sta_report(dc->s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "}]", dc->web->id,
		   MIB(64));
	unit_set(dc->hb, "schedulable", "off");
	unit_set(dc->web, "power", "on");
	unit_set(dc->hb, "schedulable", "on");
	if (strcmp(vdc_place_of(dc->web)->host, "ha"))
		fail_msg("web1 is %s: %s", dc->web->state, dc->web->err ? dc->web->err : "");
	hva_report(dc->ha, dc->web, "running", 0, NULL, NULL);
	assert_string_equal(dc->web->state, "running");
}

static int migrate(struct vdc_obj *inst, const char *args, struct vdc_err *err)
{
	return vdc_migrate_verb(inst, args, strlen(args), err);
}

static void test_live_migration_steps(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct dc dc;
	json_t *e, *m;
	unsigned cpus;
	uint64_t mem;

	(void)state_;
	running_instance(&dc);
	assert_int_equal(migrate(dc.web, "", &err), 0);
	assert_string_equal(dc.web->state, "migrating");
	assert_string_equal(vdc_place_of(dc.web)->host, "ha");
	assert_string_equal(vdc_place_of(dc.web)->migrate_to, "hb");
	assert_string_equal(unit_shown(vdc_migrate_show_progress, dc.web),
			    "live migration to host hb: waiting for the host to make ready\n");
	/* hb holds its room from now on, and rmdir of hb waits. */
	vdc_host_use(dc.hb, &cpus, &mem);
	assert_int_equal(cpus, 1);
	assert_int_equal(mem, MIB(512));
	check_err(vdc_host_busy(dc.hb, &err), &err);
	assert_int_equal(vdc_host_busy(dc.hb, NULL), -EBUSY);
	/* Both hypervisors may log in to its disk. */
	assert_int_equal(disk_initiators(dc.s1, dc.web, "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:host-hb"), 3);
	/* hb is told to make ready; ha is not told to migrate yet. */
	e = hva_entry(dc.hb, dc.web->id);
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "incoming"), "from")), ADDR_A);
	assert_string_equal(json_string_value(json_object_get(e, "power")), "on");
	assert_non_null(json_object_get(e, "disk"));
	json_decref(e);
	e = hva_entry(dc.ha, dc.web->id);
	assert_null(json_object_get(e, "migrate"));
	json_decref(e);
	/* Power off and a second migrate wait for it. */
	assert_int_equal(vdc_attr_set(dc.web, (unsigned)unit_attr(dc.web, "power"), "off", 3, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "migrating to host hb"));
	assert_int_equal(migrate(dc.web, "", &err), -EBUSY);

	/* hb is ready: ha is told to migrate, attempt 1, to hb's libvirtd. */
	hva_report(dc.hb, dc.web, "incoming", 0, NULL, NULL);
	assert_string_equal(dc.web->state, "migrating");
	e = hva_entry(dc.ha, dc.web->id);
	m = json_object_get(e, "migrate");
	assert_int_equal(json_integer_value(json_object_get(m, "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(m, "to")), "hb");
	assert_string_equal(json_string_value(json_object_get(m, "uri")), "qemu+tls://" ADDR_B "/system");
	assert_string_equal(json_string_value(json_object_get(m, "address")), ADDR_B);
	assert_string_equal(json_string_value(json_object_get(m, "initiator")), "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:host-hb");
	json_decref(e);

	/* Under way: run/progress says how far. */
	hva_report(dc.ha, dc.web, "migrating", 0, NULL, "memory 40% (205 of 512 MiB)");
	assert_string_equal(dc.web->state, "migrating");
	assert_string_equal(unit_shown(vdc_migrate_show_progress, dc.web),
			    "live migration to host hb: memory 40% (205 of 512 MiB)\n");

	/* Done: placed on hb, migrating until hb reports it, then running. */
	hva_report(dc.ha, dc.web, "migrated", 1, NULL, NULL);
	assert_string_equal(vdc_place_of(dc.web)->host, "hb");
	assert_string_equal(vdc_place_of(dc.web)->migrate_to, "");
	assert_string_equal(dc.web->state, "migrating");
	assert_null(hva_entry(dc.ha, dc.web->id));
	e = hva_entry(dc.hb, dc.web->id);
	assert_null(json_object_get(e, "incoming"));
	json_decref(e);
	hva_report(dc.hb, dc.web, "running", 0, NULL, NULL);
	assert_string_equal(dc.web->state, "running");
	assert_int_equal(disk_initiators(dc.s1, dc.web, "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:host-hb"), 2);
	assert_int_equal(disk_initiators(dc.s1, dc.web, "iqn.2026-11.org.vdcfs:8d7f0a1b2c3d:host-ha"), 0);
	vdc_host_use(dc.ha, &cpus, &mem);
	assert_int_equal(cpus, 0);
}

static void test_failed_migration_keeps_it_running(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct dc dc;
	unsigned cpus;
	uint64_t mem;
	json_t *e;

	(void)state_;
	running_instance(&dc);
	assert_int_equal(migrate(dc.web, "hb", &err), 0);
	hva_report(dc.hb, dc.web, "incoming", 0, NULL, NULL);
	hva_report(dc.ha, dc.web, "running", 1, "live migration to hb failed: unable to connect", NULL);
	assert_string_equal(dc.web->state, "running");
	assert_string_equal(vdc_place_of(dc.web)->host, "ha");
	assert_string_equal(vdc_place_of(dc.web)->migrate_to, "");
	assert_string_equal(dc.web->err, "live migration to hb failed: unable to connect");
	vdc_host_use(dc.hb, &cpus, &mem);
	assert_int_equal(cpus, 0);
	assert_null(hva_entry(dc.hb, dc.web->id));
	e = hva_entry(dc.ha, dc.web->id);
	assert_null(json_object_get(e, "migrate"));
	json_decref(e);
	assert_int_equal(disk_initiators(dc.s1, dc.web, NULL), 2);

	/* The destination cannot take it: the attempt ends before it began. */
	assert_int_equal(migrate(dc.web, "", &err), 0);
	hva_report(dc.hb, dc.web, "error", 0, "network net1 is not ready", NULL);
	assert_string_equal(vdc_place_of(dc.web)->migrate_to, "");
	assert_non_null(strstr(dc.web->err, "network net1 is not ready"));
	assert_string_equal(dc.web->state, "running");

	/* A third attempt is attempt 3: the old outcome does not count for it. */
	assert_int_equal(migrate(dc.web, "", &err), 0);
	hva_report(dc.hb, dc.web, "incoming", 0, NULL, NULL);
	e = hva_entry(dc.ha, dc.web->id);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "migrate"), "seq")), 3);
	json_decref(e);
	hva_report(dc.ha, dc.web, "migrating", 1, "live migration to hb failed: unable to connect", NULL);
	assert_string_equal(dc.web->state, "migrating");
	assert_string_equal(vdc_place_of(dc.web)->migrate_to, "hb");
}

static void test_bad_migrate_requests(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct dc dc;

	(void)state_;
	running_instance(&dc);
	check_err(migrate(dc.web, "ha", &err), &err);
	assert_int_equal(migrate(dc.web, "ha", &err), -EINVAL);
	assert_int_equal(migrate(dc.web, "nosuch", &err), -ENOENT);
	assert_int_equal(migrate(dc.web, "s1", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "storage host"));
	vdc_host_of(dc.hb)->underlay[0] = 0;
	assert_int_equal(migrate(dc.web, "hb", &err), -EAGAIN);
	assert_string_equal(dc.web->state, "running");
	assert_string_equal(vdc_place_of(dc.web)->migrate_to, "");
}

static void test_migration_survives_a_restart(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct dc dc;
	json_t *e;
	int64_t id;

	(void)state_;
	running_instance(&dc);
	id = dc.web->id;
	assert_int_equal(migrate(dc.web, "", &err), 0);
	hva_report(dc.hb, dc.web, "incoming", 0, NULL, NULL);
	unit_model_reopen(dir);
	dc.web = unit_find(&vdc_kind_instances, "web1");
	dc.ha = vdc_host_find("ha");
	dc.hb = vdc_host_find("hb");
	snprintf(vdc_host_of(dc.hb)->underlay, 16, "%s", ADDR_B);
	assert_string_equal(vdc_place_of(dc.web)->migrate_to, "hb");
	/* The source was told before the restart: it is told still, before any host reports. */
	e = hva_entry(dc.ha, id);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "migrate"), "seq")), 1);
	json_decref(e);
	e = hva_entry(dc.hb, id);
	assert_non_null(json_object_get(e, "incoming"));
	json_decref(e);
	hva_report(dc.ha, dc.web, "migrated", 1, NULL, NULL);
	assert_string_equal(vdc_place_of(dc.web)->host, "hb");
}

static void test_evacuate_moves_running_instances_live(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct dc dc;

	(void)state_;
	running_instance(&dc);
	assert_int_equal(vdc_host_verb_evacuate(dc.ha, "", 0, &err), 0);
	assert_string_equal(dc.web->state, "migrating");
	assert_false(vdc_place_of(dc.web)->leaving);
	/* The live move fails: it leaves ha the cold way, to start on hb with its disk. */
	hva_report(dc.hb, dc.web, "incoming", 0, NULL, NULL);
	hva_report(dc.ha, dc.web, "running", 1, "live migration to hb failed: connection refused", NULL);
	assert_true(vdc_place_of(dc.web)->leaving);
	hva_report(dc.ha, NULL, NULL, 0, NULL, NULL);
	assert_string_equal(vdc_place_of(dc.web)->host, "hb");
}

/* The source dies mid-way and is removed: where the destination has it running, it stays. */
static void test_source_removed_after_the_move(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct timespec later;
	struct dc dc;

	(void)state_;
	running_instance(&dc);
	assert_int_equal(migrate(dc.web, "", &err), 0);
	hva_report(dc.hb, dc.web, "incoming", 0, NULL, NULL);
	hva_report(dc.ha, dc.web, "migrating", 0, NULL, "memory 90%");
	hva_report(dc.hb, dc.web, "running", 0, NULL, NULL);   /* arrived; ha never said so */
	clock_gettime(CLOCK_MONOTONIC, &later);
	later.tv_sec += 3600;
	assert_true(vdc_host_silenced(dc.ha, &later));
	assert_int_equal(vdc_obj_destroy(dc.ha, &err), 0);
	assert_string_equal(vdc_place_of(dc.web)->host, "hb");
	assert_string_equal(vdc_place_of(dc.web)->migrate_to, "");
	assert_string_equal(dc.web->state, "running");
}

/* ---- the data center's CA ---- */

static void test_host_certificates(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_tls ca, again;
	char *cert = NULL, *key = NULL;
	gnutls_x509_crt_t c, cac;
	gnutls_datum_t d;
	unsigned status = 1, critical = 0, usage = 0;
	unsigned char ip[4];
	char buf[128];
	size_t len = sizeof(buf);

	(void)state_;
	assert_int_equal(vdc_tls_ca_setup(dir, &ca, &err), 0);
	assert_int_equal(vdc_tls_ca_setup(dir, &again, &err), 0);
	assert_string_equal(ca.cert_pem, again.cert_pem);   /* kept in the state folder */
	vdc_tls_release(&again);
	assert_int_equal(vdc_tls_issue(&ca, "hb", ADDR_B, &cert, &key, &err), 0);
	assert_non_null(strstr(key, "BEGIN PRIVATE KEY"));
	assert_int_equal(gnutls_x509_crt_init(&c), 0);
	assert_int_equal(gnutls_x509_crt_init(&cac), 0);
	d = (gnutls_datum_t){ (unsigned char *)cert, (unsigned)strlen(cert) };
	assert_int_equal(gnutls_x509_crt_import(c, &d, GNUTLS_X509_FMT_PEM), 0);
	d = (gnutls_datum_t){ (unsigned char *)ca.cert_pem, (unsigned)strlen(ca.cert_pem) };
	assert_int_equal(gnutls_x509_crt_import(cac, &d, GNUTLS_X509_FMT_PEM), 0);
	/* Signed by the CA, names the host and its address, for servers and clients. */
	assert_int_equal(gnutls_x509_crt_verify(c, &cac, 1, 0, &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len), 0);
	assert_string_equal(buf, "hb");
	inet_pton(AF_INET, ADDR_B, ip);
	assert_true(gnutls_x509_crt_check_ip(c, ip, 4, 0));
	assert_false(gnutls_x509_crt_check_ip(c, (const unsigned char[]){ 198, 51, 100, 18 }, 4, 0));
	assert_int_equal(gnutls_x509_crt_get_key_usage(c, &usage, &critical), 0);
	assert_true(usage & GNUTLS_KEY_DIGITAL_SIGNATURE);
	assert_true(usage & GNUTLS_KEY_KEY_ENCIPHERMENT);
	len = sizeof(buf);
	assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(c, 0, buf, &len, NULL), 0);
	assert_string_equal(buf, GNUTLS_KP_TLS_WWW_SERVER);
	len = sizeof(buf);
	assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(c, 1, buf, &len, NULL), 0);
	assert_string_equal(buf, GNUTLS_KP_TLS_WWW_CLIENT);
	assert_int_equal(gnutls_x509_crt_get_ca_status(cac, NULL), 1);
	assert_int_equal(gnutls_x509_crt_get_ca_status(c, NULL), 0);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_crt_deinit(cac);
	assert_int_equal(vdc_tls_issue(&ca, "hb", "not-an-address", &cert, &key, &err) < 0, 1);
	free(cert);
	free(key);
	vdc_tls_release(&ca);
}

/* A hypervisor fetching the image an instance starts from: its progress is run/progress's while it starts. */
static void test_image_fetch_progress(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *ha, *img, *web;

	(void)state_;
	ha = unit_join("ha", VDC_ROLE_HVA);
	hva_report(ha, NULL, NULL, 0, NULL, NULL);
	assert_int_equal(vdc_obj_create(&vdc_kind_images, NULL, "tiny", 4, 0, 0, &img, &err), 0);
	assert_int_equal(vdc_obj_create(&vdc_kind_instances, NULL, "web1", 4, 0, 0, &web, &err), 0);
	assert_int_equal(vdc_link_set(web, (unsigned)unit_attr(web, "image"), "tiny", 0, &err), 0);
	unit_set(web, "power", "on");
	if (strcmp(vdc_place_of(web)->host, "ha"))
		fail_msg("web1 is %s: %s", web->state, web->err ? web->err : "");
	assert_string_equal(unit_shown(vdc_migrate_show_progress, web), "");
	hva_report(ha, web, "starting", 0, NULL, "fetching image tiny: 41% (13M of 32M)");
	assert_string_equal(web->state, "starting");
	assert_string_equal(unit_shown(vdc_migrate_show_progress, web), "fetching image tiny: 41% (13M of 32M)\n");
	/* Once it runs the line is gone, even if an agent said one still. */
	hva_report(ha, web, "running", 0, NULL, "fetching image tiny: 100% (32M of 32M)");
	assert_string_equal(unit_shown(vdc_migrate_show_progress, web), "");
	hva_report(ha, web, "running", 0, NULL, NULL);
	assert_string_equal(unit_shown(vdc_migrate_show_progress, web), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_live_migration_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_migration_keeps_it_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_migrate_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_survives_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evacuate_moves_running_instances_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_removed_after_the_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_certificates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_fetch_progress, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
