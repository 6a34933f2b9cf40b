/*
 * Unit tests for volumes on storage hosts (backend/volume.c,
 * docs/storage.md): placement, states, size, snapshots, restores,
 * clones, attachment and the desired state of storage hosts and hypervisors, with
 * the real kinds of vdcfs/ and the real sqlite store in a private
 * mkdtemp() directory.
 *
 * A storage agent is played by calling what the agent server calls for
 * its report (agentd.c's serve_sta_report): the report parsed by
 * agent_doc.c, the facts set in its struct vdc_host, then
 * vdc_host_report_sta() with its volumes. A hypervisor is played as in
 * test_placement.c. The write lock is held through each test.
 *
 * Over 1,000 lines since clones (cp through copy_file_range: the block
 * op `clone`) joined restores here: they share every helper above, and
 * a file of their own would copy them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agent_doc.h"
#include "host.h"
#include "instance.h"
#include "kinds.h"
#include "lun.h"
#include "strbuf.h"
#include "unit_model.h"
#include "volume.h"
#include "wire.h"

#define DC "8d7f0a1b2c3d4e5f8d7f0a1b2c3d4e5f"
#define DC12 "8d7f0a1b2c3d"
#define PORTAL UNIT_PORTAL
#define MIB(n) ((uint64_t)(n) << 20)

static char dir[256];

static int setup(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;

	(void)state;
	if (unit_model_setup(dir, sizeof(dir), "volumes") < 0)
		return -1;
	/* The data center's id, as the agent server makes it at its start. */
	return vdc_model_meta_put("dc", DC, &err) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_model_teardown(dir);
}

/* ---- helpers: the data center as a user and the agents see it ---- */

/* What `cat ATTR` shows, without the newline (a static buffer). */
static const char *value(const struct vdc_obj *o, const char *attr)
{
	static char buf[64];
	size_t len;
	const char *v = vdc_attr_value(o, (unsigned)unit_attr(o, attr), &len);

	snprintf(buf, sizeof(buf), "%.*s", (int)len, v);
	return buf;
}


static struct vdc_obj *make_volume(const char *name, const char *size)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *o;

	assert_int_equal(vdc_obj_create(&vdc_kind_volumes, NULL, name, strlen(name), 0, 0, &o, &err), 0);
	if (size)
		unit_set(o, "size", size);
	return o;
}

static struct vdc_obj *make_snapshot(struct vdc_obj *vol, const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *o;

	assert_int_equal(vdc_obj_create(&vdc_kind_snapshots, vol, name, strlen(name), 0, 0, &o, &err), 0);
	return o;
}

static struct vdc_obj *make_instance(const char *name)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *o, *img = unit_find(&vdc_kind_images, "tiny");

	if (!img)
		assert_int_equal(vdc_obj_create(&vdc_kind_images, NULL, "tiny", 4, 0, 0, &img, &err), 0);
	assert_int_equal(vdc_obj_create(&vdc_kind_instances, NULL, name, strlen(name), 0, 0, &o, &err), 0);
	assert_int_equal(vdc_link_set(o, (unsigned)unit_attr(o, "image"), "tiny", 0, &err), 0);
	unit_set(o, "memory", "128M");
	return o;
}

static unsigned volumes_dir(const struct vdc_obj *inst)
{
	unsigned i;

	for (i = 0; i < inst->kind->nreldirs; i++)
		if (!strcmp(inst->kind->reldirs[i].name, "volumes"))
			return i;
	fail_msg("instances have no volumes/ folder");
	return 0;
}

/* ln -s ../../../volumes/VOL instances/INST/volumes/LINK */
static int attach(struct vdc_obj *inst, const char *link, const char *vol, struct vdc_err *err)
{
	return vdc_rel_add(inst, volumes_dir(inst), link, strlen(link), vol, 0, err);
}

/* rm instances/INST/volumes/LINK */
static void detach(struct vdc_obj *inst, const char *link)
{
	struct vdc_err err = VDC_ERR_INIT;
	unsigned d = volumes_dir(inst);
	struct vdc_link *l = vdc_rel_find(inst, d, link, strlen(link));

	assert_non_null(l);
	assert_int_equal(vdc_rel_remove(inst, d, l, &err), 0);
}



/* A hypervisor's report: capacity, and instances with their volumes. */
static void hva_report(struct vdc_obj *host, const struct vdc_report_inst *in, size_t n)
{
	struct vdc_host *h = vdc_host_of(host);

	h->cpus = 4;
	h->memory = MIB(4096);
	vdc_host_report(host, in, n);
}

/* run/host of a volume: its storage host and a newline, or empty. */
static const char *placed(const struct vdc_obj *vol)
{
	return unit_shown(vdc_volume_show_host, vol);
}


/* The desired volumes of storage host `host`, and the one with id `id` in it. */
static json_t *desired(struct vdc_obj *host)
{
	json_t *j = vdc_sta_desired_volumes(host, unit_no_sum);

	assert_true(json_is_array(j));
	return j;
}

static json_t *desired_vol(json_t *list, int64_t id)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_integer_value(json_object_get(v, "id")) == id)
			return v;
	return NULL;
}

/* The volume placed on s1 with `disk_mib`, reported available. */
static struct vdc_obj *available_volume(struct vdc_obj **host_out, const char *name, const char *size,
					uint64_t disk_mib)
{
	struct vdc_obj *s1 = vdc_host_find("s1"), *v;

	if (!s1)
		s1 = unit_join("s1", VDC_ROLE_STA);
	unit_sta_report(s1, disk_mib, "[]");
	v = make_volume(name, size);
	assert_string_equal(placed(v), "s1\n");
	unit_sta_report(s1, disk_mib, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "}]", v->id,
		   vdc_volume_size(v));
	assert_string_equal(v->state, "available");
	if (host_out)
		*host_out = s1;
	return v;
}

/* ---- tests ---- */

static void test_defined_without_a_storage_host(void **state_)
{
	struct vdc_obj *v, *hv, *s1;

	(void)state_;
	v = make_volume("v1", "64M");
	assert_string_equal(v->state, "defined");
	assert_string_equal(placed(v), "");
	assert_null(v->err);
	/* A hypervisor is no storage host. */
	hv = unit_join("hv1", VDC_ROLE_HVA);
	hva_report(hv, NULL, 0);
	assert_string_equal(v->state, "defined");
	/* A storage host that has joined but not yet reported has no room to give. */
	s1 = unit_join("s1", VDC_ROLE_STA);
	vdc_volumes_reconcile_all();
	assert_string_equal(v->state, "unschedulable");
	assert_non_null(strstr(v->err, "no storage host is up and schedulable"));
	unit_sta_report(s1, 10240, "[]");
	assert_string_equal(s1->state, "up");
	assert_string_equal(v->state, "creating");
	assert_string_equal(placed(v), "s1\n");
	assert_null(v->err);
	assert_non_null(vdc_rel_find(s1, 1, "v1", 2));
	assert_string_equal(unit_shown(vdc_host_show_disk, s1), "10240M\n");
	assert_string_equal(unit_shown(vdc_host_show_disk_used, s1), "64M\n");
}

static void test_unschedulable_when_no_host_has_room(void **state_)
{
	struct vdc_obj *v, *s1;
	json_t *list;

	(void)state_;
	s1 = unit_join("s1", VDC_ROLE_STA);
	unit_sta_report(s1, 32, "[]");
	v = make_volume("v1", "64M");
	assert_string_equal(v->state, "unschedulable");
	assert_non_null(v->err);
	assert_non_null(strstr(v->err, "no storage host has 64M free"));
	assert_string_equal(placed(v), "");
	list = desired(s1);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	/* More room (the agent restarted with a larger --disk): placed now. */
	unit_sta_report(s1, 100, "[]");
	assert_string_equal(v->state, "creating");
	assert_string_equal(placed(v), "s1\n");
	assert_null(v->err);
}

static void test_placed_on_the_host_with_most_room(void **state_)
{
	struct vdc_obj *s1, *s2, *v1, *v2, *v3;

	(void)state_;
	s1 = unit_join("s1", VDC_ROLE_STA);
	s2 = unit_join("s2", VDC_ROLE_STA);
	unit_sta_report(s1, 10240, "[]");
	unit_sta_report(s2, 40960, "[]");
	v1 = make_volume("v1", NULL);
	assert_string_equal(placed(v1), "s2\n");
	/* s2 has 39G left, s1 10G: the full size is reserved. */
	v2 = make_volume("v2", "35G");
	assert_string_equal(placed(v2), "s2\n");
	/* Now s2 has 4G, s1 10G. */
	v3 = make_volume("v3", "6G");
	assert_string_equal(placed(v3), "s1\n");
	assert_string_equal(unit_shown(vdc_host_show_disk_used, s2), "36864M\n");
	assert_string_equal(unit_shown(vdc_host_show_disk_used, s1), "6144M\n");
}

static void test_creating_then_available(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_block_ep ep;
	struct vdc_obj *v, *s1;
	char want[256];
	json_t *list, *d;
	int rc;

	(void)state_;
	s1 = unit_join("s1", VDC_ROLE_STA);
	unit_sta_report(s1, 10240, "[]");
	v = make_volume("v1", NULL);
	assert_string_equal(v->state, "creating");
	/* No target until the host has reported the volume. */
	assert_string_equal(unit_shown(vdc_volume_show_target, v), "");
	rc = vdc_volume_endpoint(v, &ep, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EAGAIN);

	/* The desired state of s1 names it as docs/storage.md says. */
	list = desired(s1);
	assert_int_equal(json_array_size(list), 1);
	d = desired_vol(list, v->id);
	assert_non_null(d);
	snprintf(want, sizeof(want), "iqn.2026-11.org.vdcfs:" DC12 ":vol-%" PRId64, v->id);
	assert_string_equal(json_string_value(json_object_get(d, "iqn")), want);
	assert_string_equal(json_string_value(json_object_get(d, "name")), "v1");
	assert_int_equal(json_integer_value(json_object_get(d, "size")), MIB(1024));
	snprintf(want, sizeof(want), "vol-%" PRId64, v->id);
	assert_string_equal(json_string_value(json_object_get(d, "chap_user")), want);
	assert_int_equal(strlen(json_string_value(json_object_get(d, "chap_secret"))), 32);
	assert_true(json_is_null(json_object_get(d, "restore")));
	assert_int_equal(json_array_size(json_object_get(d, "snapshots")), 0);
	json_decref(list);

	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"creating\"}]", v->id);
	assert_string_equal(v->state, "creating");
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "}]", v->id, MIB(1024));
	assert_string_equal(v->state, "available");
	assert_null(v->err);

	/* run/target: PORTAL IQN LUN */
	snprintf(want, sizeof(want), PORTAL " iqn.2026-11.org.vdcfs:" DC12 ":vol-%" PRId64 " 1\n", v->id);
	assert_string_equal(unit_shown(vdc_volume_show_target, v), want);
	assert_string_equal(placed(v), "s1\n");

	/* What the data path gets. */
	assert_int_equal(vdc_volume_endpoint(v, &ep, &err), 0);
	assert_string_equal(ep.portal, PORTAL);
	assert_string_equal(ep.initiator, "iqn.2026-11.org.vdcfs:" DC12 ":control");
	assert_int_equal(ep.lun, 1);
	assert_int_equal(ep.size, MIB(1024));
	assert_int_equal(strlen(ep.secret), 32);
	assert_true(ep.writable);

	/* A failure on the host reaches run/err. */
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"error\", \"err\": \"tgtadm failed: no such file\"}]",
		   v->id);
	assert_string_equal(v->state, "error");
	assert_string_equal(v->err, "tgtadm failed: no such file");
}

static void test_size_grows_only(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *v, *s1, *d;
	unsigned size;
	uint64_t rev;
	json_t *list;
	int rc;

	(void)state_;
	/* Not on a host yet: nothing exists, so any size goes. */
	d = make_volume("draft", "64M");
	unit_set(d, "size", "32M");
	assert_string_equal(value(d, "size"), "32M");

	v = available_volume(&s1, "v1", NULL, 4096);
	assert_string_equal(placed(d), "s1\n");
	size = (unsigned)unit_attr(v, "size");
	rev = vdc_host_of(s1)->rev;
	unit_set(v, "size", "2G");
	assert_true(vdc_host_of(s1)->rev > rev);
	list = desired(s1);
	assert_int_equal(json_integer_value(json_object_get(desired_vol(list, v->id), "size")), MIB(2048));
	json_decref(list);

	/* Never written (nothing allocated on the host): it may still shrink. */
	unit_set(v, "size", "1G");
	unit_set(v, "size", "2G");
	/* Once it holds data, it only grows. */
	unit_sta_report(s1, 4096,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 ", \"allocated\": 1048576}]",
		   v->id, MIB(2048));
	rc = vdc_attr_set(v, size, "1G", 2, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err.msg, "volumes only grow"));
	assert_string_equal(value(v, "size"), "2G");

	/* 4096M offered, 32M (draft) and 2048M reserved: 2016M free. */
	rc = vdc_attr_set(v, size, "8G", 2, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -ENOSPC);
	assert_non_null(strstr(err.msg, "storage host s1 has 2016M free"));
	assert_string_equal(value(v, "size"), "2G");
	list = desired(s1);
	assert_int_equal(json_integer_value(json_object_get(desired_vol(list, v->id), "size")), MIB(2048));
	json_decref(list);
	/* Exactly what is left is fine. */
	unit_set(v, "size", "4064M");
	assert_string_equal(unit_shown(vdc_host_show_disk_used, s1), "4096M\n");
}

/*
 * The way a user makes a volume: mkdir, then echo 64M > size. The volume
 * is placed (at the default size) by the mkdir, before its size is
 * written; its storage host has not reported it yet, so nothing exists
 * there that a smaller size could lose.
 */
static void test_size_written_right_after_mkdir(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *v, *s1;
	json_t *list;
	int rc;

	(void)state_;
	s1 = unit_join("s1", VDC_ROLE_STA);
	unit_sta_report(s1, 10240, "[]");
	v = make_volume("v1", NULL);
	assert_string_equal(v->state, "creating");
	rc = vdc_attr_set(v, (unsigned)unit_attr(v, "size"), "64M", 3, &err);
	check_err(rc, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(value(v, "size"), "64M");
	list = desired(s1);
	assert_int_equal(json_integer_value(json_object_get(desired_vol(list, v->id), "size")), MIB(64));
	json_decref(list);
}

static void test_snapshot_states_follow_reports(void **state_)
{
	struct vdc_obj *v, *s1, *snap;
	json_t *list, *snaps;
	uint64_t rev;

	(void)state_;
	v = available_volume(&s1, "v1", NULL, 10240);
	rev = vdc_host_of(s1)->rev;
	snap = make_snapshot(v, "s1");
	assert_string_equal(snap->state, "creating");
	assert_true(vdc_host_of(s1)->rev > rev);
	list = desired(s1);
	snaps = json_object_get(desired_vol(list, v->id), "snapshots");
	assert_int_equal(json_array_size(snaps), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(snaps, 0), "id")), snap->id);
	assert_string_equal(json_string_value(json_object_get(json_array_get(snaps, 0), "name")), "s1");
	json_decref(list);

	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"creating\"}]}]",
		   v->id, snap->id);
	assert_string_equal(snap->state, "creating");
	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   v->id, snap->id);
	assert_string_equal(snap->state, "available");
	assert_string_equal(v->state, "available");
	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"error\", \"err\": \"disk full\"}]}]",
		   v->id, snap->id);
	assert_string_equal(snap->state, "error");
	assert_string_equal(snap->err, "disk full");

	/* rmdir of a snapshot: gone from the desired state. */
	rev = vdc_host_of(s1)->rev;
	assert_int_equal(vdc_obj_destroy(snap, NULL), 0);
	assert_true(vdc_host_of(s1)->rev > rev);
	list = desired(s1);
	assert_int_equal(json_array_size(json_object_get(desired_vol(list, v->id), "snapshots")), 0);
	json_decref(list);
}

static void test_rollback_asks_for_a_restore_and_persists(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *v, *s1, *snap;
	json_t *list, *restore;
	int64_t vid, sid;
	uint64_t rev;
	int rc;

	(void)state_;
	v = available_volume(&s1, "v1", NULL, 10240);
	snap = make_snapshot(v, "s1");
	vid = v->id;
	sid = snap->id;

	/* Not before the snapshot exists on the host. */
	rc = vdc_volume_verb_rollback(v, "s1", 2, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EAGAIN);
	rc = vdc_volume_verb_rollback(v, "nope", 4, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -ENOENT);
	rc = vdc_volume_verb_rollback(v, "", 0, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);

	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   vid, sid);
	rev = vdc_host_of(s1)->rev;
	assert_int_equal(vdc_volume_verb_rollback(v, "s1", 2, &err), 0);
	assert_true(vdc_host_of(s1)->rev > rev);
	list = desired(s1);
	restore = json_object_get(desired_vol(list, vid), "restore");
	assert_int_equal(json_integer_value(json_object_get(restore, "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(restore, "snapshot")), sid);
	json_decref(list);
	/* The snapshot is busy while the restore from it is under way. */
	rc = vdc_obj_destroy(snap, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);

	/* The counter survives a restart of vdcfs. */
	unit_model_reopen(dir);
	v = unit_find(&vdc_kind_volumes, "v1");
	s1 = vdc_host_find("s1");
	assert_non_null(v);
	assert_non_null(s1);
	assert_int_equal(v->id, vid);
	list = desired(s1);
	restore = json_object_get(desired_vol(list, vid), "restore");
	assert_int_equal(json_integer_value(json_object_get(restore, "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(restore, "snapshot")), sid);
	json_decref(list);

	/* The host carries it out; the next one is number 2. */
	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"restore\": 1, \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   vid, sid);
	assert_string_equal(v->state, "available");
	assert_int_equal(vdc_volume_verb_rollback(v, "s1", 2, &err), 0);
	list = desired(s1);
	restore = json_object_get(desired_vol(list, vid), "restore");
	assert_int_equal(json_integer_value(json_object_get(restore, "n")), 2);
	json_decref(list);
	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"restore\": 2, \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   vid, sid);
	assert_int_equal(vdc_obj_destroy(vdc_obj_find(&vdc_kind_snapshots, v, "s1", 2), &err), 0);
}

/*
 * A snapshot's data: its own target (snap-ID, the volume's secret), its
 * size from the report that first says it is available (kept over a
 * restart), refused while not available, busy while restored from.
 */
static void test_snapshot_data(void **state_)
{
	const struct vdc_block_ops *b = vdc_kind_snapshots.block;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_block_ep ep, vep;
	struct vdc_obj *v, *s1, *snap, *v2;
	char iqn[96], user[32];
	int64_t vid, sid;
	int rc;

	(void)state_;
	assert_true(vdc_kind_snapshots.has_data);
	assert_string_equal(vdc_kind_data_name(&vdc_kind_snapshots), "data");
	assert_ptr_equal(b, &vdc_lun_snap_block);
	assert_true(b->fixed_size);
	v = available_volume(&s1, "v1", "64M", 10240);
	snap = make_snapshot(v, "s1");
	vid = v->id;
	sid = snap->id;
	assert_true(b->placed(snap));
	assert_int_equal(b->size(snap), 0);
	rc = b->endpoint(snap, &ep, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EAGAIN);
	assert_string_equal(err.msg, "snapshot s1 of volume v1 is creating, not available on a storage host s1");

	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 ", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   vid, MIB(64), sid);
	assert_int_equal(b->size(snap), MIB(64));
	assert_int_equal(b->endpoint(snap, &ep, &err), 0);
	assert_int_equal(vdc_volume_endpoint(v, &vep, &err), 0);
	snprintf(iqn, sizeof(iqn), "iqn.2026-11.org.vdcfs:" DC12 ":snap-%" PRId64, sid);
	snprintf(user, sizeof(user), "snap-%" PRId64, sid);
	assert_string_equal(ep.iqn, iqn);
	assert_string_equal(ep.user, user);
	assert_string_equal(ep.secret, vep.secret);
	assert_string_equal(ep.portal, PORTAL);
	assert_string_equal(ep.initiator, "iqn.2026-11.org.vdcfs:" DC12 ":control");
	assert_int_equal(ep.lun, 1);
	assert_int_equal(ep.size, MIB(64));
	assert_true(ep.writable);
	assert_int_equal(b->writable(snap, &err), 0);

	/* The volume grows: the snapshot keeps the size it was taken at. */
	unit_set(v, "size", "128M");
	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 ", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   vid, MIB(128), sid);
	assert_int_equal(b->size(snap), MIB(64));

	/* Seeding another volume from it: its bytes are not written meanwhile. */
	v2 = make_volume("v2", "64M");
	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 ", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]},"
		   " {\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "}]",
		   vid, MIB(128), sid, v2->id, MIB(64));
	assert_int_equal(vdc_volume_restore(v2, snap, &err), 0);
	rc = b->writable(snap, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	assert_string_equal(err.msg, "volume v2 is being restored from snapshot s1 of volume v1; its bytes are written once that is done");
	assert_int_equal(b->endpoint(snap, &ep, &err), 0);
	assert_false(ep.writable);

	/* The size is kept over a restart. */
	unit_model_reopen(dir);
	v = unit_find(&vdc_kind_volumes, "v1");
	assert_non_null(v);
	snap = vdc_obj_find(&vdc_kind_snapshots, v, "s1", 2);
	assert_non_null(snap);
	assert_int_equal(b->size(snap), MIB(64));

	/* The refusal of bytes while on no storage host names the snapshot. */
	v = make_volume("v3", "64M");
	snap = make_snapshot(v, "s3");
	rc = b->no_host(snap, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EAGAIN);
	assert_non_null(strstr(err.msg, "snapshot s3 of volume v3"));
}

/* An empty volume linked from a running instance may not shrink either. */
static void test_no_shrink_while_attached(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *v, *web;
	int rc;

	(void)state_;
	v = available_volume(NULL, "v1", "2G", 10240);
	web = make_instance("web1");
	assert_int_equal(attach(web, "data", "v1", &err), 0);
	unit_set(web, "power", "on");
	rc = vdc_attr_set(v, (unsigned)unit_attr(v, "size"), "1G", 2, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(value(v, "size"), "2G");
	unit_set(v, "size", "3G");
}

static void test_busy_while_linked_from_a_running_instance(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *v, *s1, *snap, *web;
	int rc;

	(void)state_;
	v = available_volume(&s1, "v1", NULL, 10240);
	snap = make_snapshot(v, "s1");
	unit_sta_report(s1, 10240,
		   "[{\"id\": %" PRId64 ", \"state\": \"available\", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   v->id, snap->id);
	web = make_instance("web1");
	assert_int_equal(attach(web, "data", "v1", &err), 0);
	/* Linked from a stopped instance: the volume is still free to change. */
	assert_int_equal(vdc_volume_writable(v, &err), 0);

	unit_set(web, "power", "on");
	rc = vdc_volume_writable(v, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	assert_non_null(strstr(err.msg, "web1"));
	rc = vdc_volume_verb_rollback(v, "s1", 2, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	rc = vdc_obj_destroy(v, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	{
		struct vdc_block_ep ep;

		assert_int_equal(vdc_volume_endpoint(v, &ep, &err), 0);
		assert_false(ep.writable);
	}

	unit_set(web, "power", "off");
	assert_int_equal(vdc_volume_writable(v, &err), 0);
	assert_int_equal(vdc_volume_verb_rollback(v, "s1", 2, &err), 0);
}

/*
 * A clone (cp of data: copy_file_range): only between LUNs of one
 * storage host, both available, of one size, neither in use by a guest;
 * asked for as restore {n, volume}, kept over a restart, done when the
 * host reports the counter, failed when it reports an error or a guest
 * may have written the source; the source stays while it runs.
 */
static void test_clone(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *v1, *v2, *v3, *s1, *web;
	uint64_t ticket[2];
	json_t *list, *restore;
	int64_t id1, id2;
	int rc;

	(void)state_;
	v1 = available_volume(&s1, "v1", NULL, 10240);
	v2 = make_volume("v2", NULL);
	v3 = make_volume("v3", "128M");
	id1 = v1->id;
	id2 = v2->id;
	/* v2 not reported yet: not available. */
	rc = vdc_volume_block.clone(v2, v1, ticket, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EOPNOTSUPP);
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "},"
		   " {\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "},"
		   " {\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "}]",
		   id1, vdc_volume_size(v1), id2, vdc_volume_size(v2), v3->id, vdc_volume_size(v3));
	/* Sizes differ. */
	rc = vdc_volume_block.clone(v3, v1, ticket, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "differ in size"));
	/* The source attached to a running instance: a guest may write it. */
	web = make_instance("web1");
	assert_int_equal(attach(web, "data", "v1", &err), 0);
	unit_set(web, "power", "on");
	rc = vdc_volume_block.clone(v2, v1, ticket, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "web1"));
	unit_set(web, "power", "off");
	detach(web, "data");
	list = desired(s1);
	assert_true(json_is_null(json_object_get(desired_vol(list, id2), "restore")));
	json_decref(list);

	/* Asked for. */
	assert_int_equal(vdc_volume_block.clone(v2, v1, ticket, &err), 0);
	assert_int_equal(ticket[0], 1);
	list = desired(s1);
	restore = json_object_get(desired_vol(list, id2), "restore");
	assert_int_equal(json_integer_value(json_object_get(restore, "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(restore, "volume")), id1);
	assert_null(json_object_get(restore, "snapshot"));
	json_decref(list);
	assert_int_equal(vdc_volume_block.clone_state(v2, id1, ticket, &err), 0);
	/* Under way: the source stays, a second clone into v2 waits. */
	rc = vdc_obj_destroy(v1, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	assert_non_null(strstr(err.msg, "being cloned from volume v1"));
	rc = vdc_volume_block.clone(v2, v1, ticket, &err);
	assert_int_equal(rc, -EOPNOTSUPP);

	/* Kept over a restart of vdcfs. */
	unit_model_reopen(dir);
	v1 = unit_find(&vdc_kind_volumes, "v1");
	v2 = unit_find(&vdc_kind_volumes, "v2");
	s1 = vdc_host_find("s1");
	list = desired(s1);
	restore = json_object_get(desired_vol(list, id2), "restore");
	assert_int_equal(json_integer_value(json_object_get(restore, "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(restore, "volume")), id1);
	json_decref(list);
	/* (A ticket lives as long as the open file: the source's cache generation starts anew.) */
	ticket[1] = ((struct vdc_lun *)v1->priv)->cache_gen;

	/* The host fails it: the error is the copy's. */
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "},"
		   " {\"id\": %" PRId64 ", \"state\": \"error\", \"err\": \"clone of volume v1: no room\", \"size\": %" PRIu64 "}]",
		   id1, vdc_volume_size(v1), id2, vdc_volume_size(v2));
	rc = vdc_volume_block.clone_state(v2, id1, ticket, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EIO);
	assert_non_null(strstr(err.msg, "no room"));
	/* Carried out. */
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "},"
		   " {\"id\": %" PRId64 ", \"state\": \"available\", \"restore\": 1, \"size\": %" PRIu64 "}]",
		   id1, vdc_volume_size(v1), id2, vdc_volume_size(v2));
	assert_int_equal(vdc_volume_block.clone_state(v2, id1, ticket, &err), 1);
	/* A guest that started on the source since: no longer a copy. */
	web = unit_find(&vdc_kind_instances, "web1");
	assert_int_equal(attach(web, "data", "v1", &err), 0);
	unit_set(web, "power", "on");
	rc = vdc_volume_block.clone_state(v2, id1, ticket, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EIO);
	unit_set(web, "power", "off");
	detach(web, "data");
	/* A rollback of v2 since: another restore. */
	assert_int_equal(vdc_obj_destroy(v1, &err), 0);
	rc = vdc_volume_block.clone_state(v2, id1, ticket, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EIO);
}

/* Two storage hosts: a clone across them is -EXDEV. */
static void test_clone_across_hosts(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *v1, *v2, *s1, *s2;
	uint64_t ticket[2];
	int rc;

	(void)state_;
	v1 = available_volume(&s1, "v1", NULL, 10240);
	s2 = unit_join("s2", VDC_ROLE_STA);
	unit_sta_report(s2, 20480, "[]");
	v2 = make_volume("v2", NULL);
	assert_string_equal(placed(v2), "s2\n");
	unit_sta_report(s2, 20480, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "}]", v2->id,
		   vdc_volume_size(v2));
	rc = vdc_volume_block.clone(v2, v1, ticket, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EXDEV);
	assert_non_null(strstr(err.msg, "not on the same storage host"));
}

static void test_a_second_instance_cannot_link_it(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *web1, *web2;
	int rc;

	(void)state_;
	(void)available_volume(NULL, "v1", NULL, 10240);
	web1 = make_instance("web1");
	web2 = make_instance("web2");
	assert_int_equal(attach(web1, "data", "v1", &err), 0);
	rc = attach(web2, "data", "v1", &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	assert_non_null(strstr(err.msg, "web1"));
	/* Nor twice from the same one. */
	rc = attach(web1, "again", "v1", &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EEXIST);
	/* Free again once unlinked. */
	detach(web1, "data");
	assert_int_equal(attach(web2, "data", "v1", &err), 0);
}

static bool has_initiator(json_t *vol, const char *iqn)
{
	json_t *list = json_object_get(vol, "initiators"), *it;
	size_t i;

	json_array_foreach(list, i, it)
		if (!strcmp(json_string_value(it), iqn))
			return true;
	return false;
}

static void test_acl_and_hypervisor_volumes(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *v, *v2, *s1, *hv, *web;
	struct vdc_seen_vol sv;
	struct vdc_report_inst r;
	json_t *list, *d, *hvl, *e;
	char serial[32];

	(void)state_;
	v = available_volume(&s1, "v1", NULL, 10240);
	v2 = make_volume("v2", NULL);
	assert_string_equal(v2->state, "creating");
	hv = unit_join("hv1", VDC_ROLE_HVA);
	hva_report(hv, NULL, 0);
	web = make_instance("web1");
	assert_int_equal(attach(web, "data", "v1", &err), 0);
	assert_int_equal(attach(web, "logs", "v2", &err), 0);

	/* Not placed yet: only vdcfs's own initiator. */
	list = desired(s1);
	d = desired_vol(list, v->id);
	assert_int_equal(json_array_size(json_object_get(d, "initiators")), 1);
	assert_true(has_initiator(d, "iqn.2026-11.org.vdcfs:" DC12 ":control"));
	json_decref(list);

	unit_set(web, "power", "on");
	assert_string_equal(vdc_place_of(web)->host, "hv1");
	list = desired(s1);
	d = desired_vol(list, v->id);
	assert_int_equal(json_array_size(json_object_get(d, "initiators")), 2);
	assert_true(has_initiator(d, "iqn.2026-11.org.vdcfs:" DC12 ":control"));
	assert_true(has_initiator(d, "iqn.2026-11.org.vdcfs:" DC12 ":host-hv1"));
	json_decref(list);

	/* The hypervisor gets the available volume only. */
	hvl = vdc_instance_volumes_json(web);
	assert_int_equal(json_array_size(hvl), 1);
	e = json_array_get(hvl, 0);
	assert_int_equal(json_integer_value(json_object_get(e, "id")), v->id);
	assert_string_equal(json_string_value(json_object_get(e, "name")), "v1");
	assert_string_equal(json_string_value(json_object_get(e, "link")), "data");
	assert_string_equal(json_string_value(json_object_get(e, "portal")), PORTAL);
	assert_int_equal(json_integer_value(json_object_get(e, "lun")), 1);
	assert_int_equal(json_integer_value(json_object_get(e, "size")), MIB(1024));
	assert_int_equal(strlen(json_string_value(json_object_get(e, "chap_secret"))), 32);
	snprintf(serial, sizeof(serial), "vdc-vol-%" PRId64, v->id);
	assert_string_equal(json_string_value(json_object_get(e, "serial")), serial);
	json_decref(hvl);

	/* The hypervisor reports it attached: so is the volume. */
	sv = (struct vdc_seen_vol){ .id = v->id, .state = "attached" };
	r = (struct vdc_report_inst){ .id = web->id, .state = "running", .vols = &sv, .nvols = 1 };
	hva_report(hv, &r, 1);
	assert_string_equal(web->state, "running");
	assert_string_equal(v->state, "attached");
	/* ... and a hypervisor's failure reaches the volume's run/err. */
	sv = (struct vdc_seen_vol){ .id = v->id, .state = "error", .err = "no route to the portal" };
	hva_report(hv, &r, 1);
	assert_string_equal(v->state, "error");
	assert_string_equal(v->err, "no route to the portal");
	r.nvols = 0;
	hva_report(hv, &r, 1);
	assert_string_equal(v->state, "available");

	/* Unlinked: the hypervisor's initiator leaves the ACL. */
	detach(web, "data");
	list = desired(s1);
	d = desired_vol(list, v->id);
	assert_int_equal(json_array_size(json_object_get(d, "initiators")), 1);
	json_decref(list);
	hvl = vdc_instance_volumes_json(web);
	assert_int_equal(json_array_size(hvl), 0);
	json_decref(hvl);
}

static void test_silent_storage_host_makes_its_volumes_unknown(void **state_)
{
	struct vdc_obj *v, *s1;

	(void)state_;
	v = available_volume(&s1, "v1", NULL, 10240);
	vdc_hosts_tick();
	assert_string_equal(s1->state, "up");
	vdc_host_of(s1)->last_seen.tv_sec -= 16;
	vdc_hosts_tick();
	assert_string_equal(s1->state, "unknown");
	assert_string_equal(v->state, "unknown");
	/* Unknown is not available: the data path waits. */
	assert_int_equal(vdc_volume_endpoint(v, &(struct vdc_block_ep){ 0 }, NULL), -EAGAIN);
	/* Never placed elsewhere meanwhile. */
	assert_string_equal(placed(v), "s1\n");
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\"}]", v->id);
	assert_string_equal(s1->state, "up");
	assert_string_equal(v->state, "available");
}

static void test_rmdir_leaves_the_desired_state(void **state_)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *v, *s1, *web;
	int64_t id;
	uint64_t rev;
	json_t *list;
	int rc;

	(void)state_;
	v = available_volume(&s1, "v1", NULL, 10240);
	id = v->id;
	make_snapshot(v, "s1");
	web = make_instance("web1");
	assert_int_equal(attach(web, "data", "v1", &err), 0);
	rc = vdc_obj_destroy(v, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	detach(web, "data");

	rev = vdc_host_of(s1)->rev;
	assert_int_equal(vdc_obj_destroy(v, &err), 0);
	assert_null(unit_find(&vdc_kind_volumes, "v1"));
	assert_true(vdc_host_of(s1)->rev > rev);
	list = desired(s1);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_null(vdc_rel_find(s1, 1, "v1", 2));
	/* Its room stays taken until the host has removed it. */
	assert_string_equal(unit_shown(vdc_host_show_disk_used, s1), "1024M\n");
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "}]", id, MIB(1024));
	assert_string_equal(unit_shown(vdc_host_show_disk_used, s1), "1024M\n");
	unit_sta_report(s1, 10240, "[]");
	assert_string_equal(unit_shown(vdc_host_show_disk_used, s1), "0M\n");
	/* A storage host without volumes can be removed. */
	unit_model_reopen(dir);
	assert_null(unit_find(&vdc_kind_volumes, "v1"));
	list = desired(vdc_host_find("s1"));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defined_without_a_storage_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unschedulable_when_no_host_has_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_placed_on_the_host_with_most_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_creating_then_available, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_grows_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_written_right_after_mkdir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_states_follow_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_asks_for_a_restore_and_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_shrink_while_attached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_while_linked_from_a_running_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_second_instance_cannot_link_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acl_and_hypervisor_volumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_storage_host_makes_its_volumes_unknown, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rmdir_leaves_the_desired_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clone_across_hosts, setup, teardown),
	};

	return cmocka_run_group_tests_name("volumes", tests, NULL, NULL);
}
