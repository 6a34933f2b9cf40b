/*
 * Unit tests for snapshots of instances' root disks (kinds/disk.c,
 * docs/storage.md, "Instance disks"): instances/NAME/snapshots/SNAP is
 * refused without a disk on a storage host, is sent in the disk's entry
 * of its storage host's desired state, takes its state from the host's
 * report, and `rollback SNAP` asks for a restore only while the instance
 * is off and stopped. The real kinds and store, as test_volumes.c; a
 * storage agent is played by calling what the agent server calls for
 * its report.
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

#include <jansson.h>

#include "agent_doc.h"
#include "disk.h"
#include "host.h"
#include "instance.h"
#include "kinds.h"
#include "lun.h"
#include "unit_model.h"
#include "wire.h"

#define DC "8d7f0a1b2c3d4e5f8d7f0a1b2c3d4e5f"
#define PORTAL UNIT_PORTAL
#define MIB(n) ((uint64_t)(n) << 20)

static char dir[256];

static int setup(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;

	(void)state;
	if (unit_model_setup(dir, sizeof(dir), "disksnaps") < 0)
		return -1;
	return vdc_model_meta_put("dc", DC, &err) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_model_teardown(dir);
}





/* The entry with id `id` of storage host `host`'s desired volumes (a new reference). */
static json_t *desired_entry(struct vdc_obj *host, int64_t id)
{
	json_t *list = vdc_sta_desired_volumes(host, unit_no_sum), *v, *found = NULL;
	size_t i;

	assert_true(json_is_array(list));
	json_array_foreach(list, i, v)
		if (json_integer_value(json_object_get(v, "id")) == id)
			found = json_incref(v);
	json_decref(list);
	return found;
}

/* An instance with a 64M disk placed on storage host s1, which reports it available. */
static struct vdc_obj *instance_with_disk(struct vdc_obj **s1_out)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *s1 = unit_join("s1", VDC_ROLE_STA), *inst;

	unit_sta_report(s1, 10240, "[]");
	assert_int_equal(vdc_obj_create(&vdc_kind_instances, NULL, "web1", 4, 0, 0, &inst, &err), 0);
	unit_set(inst, "disk-size", "64M");
	assert_string_equal(unit_shown(vdc_disk_show_host, inst), "s1\n");
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 "}]", inst->id, MIB(64));
	*s1_out = s1;
	return inst;
}

static int snap_rc(struct vdc_obj *inst, const char *name, struct vdc_obj **out, struct vdc_err *err)
{
	int rc = vdc_obj_create(&vdc_kind_instance_snapshots, inst, name, strlen(name), 0, 0, out, err);

	check_err(rc, err);
	return rc;
}

static int rollback_rc(struct vdc_obj *inst, const char *args, struct vdc_err *err)
{
	int rc;

	vdc_err_clear(err);
	rc = vdc_disk_verb_rollback(inst, args, strlen(args), err);
	check_err(rc, err);
	return rc;
}

/* instances/NAME/snapshots/ beside nics/, of the kind it is made of. */
static void test_folder(void **state)
{
	const struct vdc_kind *k = &vdc_kind_instances;

	(void)state;
	assert_int_equal(k->nchilddirs, 2);
	assert_string_equal(k->childdirs[VDC_INSTANCE_NICS].name, "nics");
	assert_string_equal(k->childdirs[VDC_INSTANCE_SNAPSHOTS].name, "snapshots");
	assert_ptr_equal(k->childdirs[VDC_INSTANCE_SNAPSHOTS].kind, &vdc_kind_instance_snapshots);
	assert_int_equal(k->childdirs[VDC_INSTANCE_SNAPSHOTS].max, VDC_SNAPSHOTS_MAX);
	assert_ptr_equal(vdc_kind(VDC_KIND_INSTANCE_SNAPSHOTS), &vdc_kind_instance_snapshots);
	assert_ptr_equal(vdc_kind_parent(&vdc_kind_instance_snapshots), k);
}

/* No disk on a storage host: no snapshot, with the sentence, and nothing made. */
static void test_refused_without_a_disk(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *inst, *snap = NULL;

	(void)state;
	assert_int_equal(vdc_obj_create(&vdc_kind_instances, NULL, "web1", 4, 0, 0, &inst, &err), 0);
	assert_int_equal(snap_rc(inst, "monday", &snap, &err), -EAGAIN);
	assert_non_null(strstr(err.msg, "snapshot monday cannot be taken: instance web1 has no disk on a storage host yet"));
	assert_int_equal(inst->children[VDC_INSTANCE_SNAPSHOTS].count, 0);
	/* A storage host, but the instance has nothing to hold yet (no image, no disk-size). */
	unit_join("s1", VDC_ROLE_STA);
	assert_int_equal(snap_rc(inst, "monday", &snap, &err), -EAGAIN);
	assert_int_equal(inst->children[VDC_INSTANCE_SNAPSHOTS].count, 0);
	/* And rollback has nothing to roll back. */
	assert_int_equal(rollback_rc(inst, "monday", &err), -ENOENT);
}

/* The snapshots of a disk in its storage host's desired state, their states from its report. */
static void test_desired_and_states(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *inst, *s1, *snap;
	json_t *e, *snaps;
	uint64_t rev;

	(void)state;
	inst = instance_with_disk(&s1);
	e = desired_entry(s1, inst->id);
	assert_non_null(e);
	assert_int_equal(json_array_size(json_object_get(e, "snapshots")), 0);
	assert_true(json_is_null(json_object_get(e, "restore")));
	json_decref(e);

	rev = vdc_host_of(s1)->rev;
	assert_int_equal(snap_rc(inst, "monday", &snap, &err), 0);
	assert_string_equal(snap->state, "creating");
	assert_true(vdc_host_of(s1)->rev > rev);
	e = desired_entry(s1, inst->id);
	snaps = json_object_get(e, "snapshots");
	assert_int_equal(json_array_size(snaps), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(snaps, 0), "id")), snap->id);
	assert_string_equal(json_string_value(json_object_get(json_array_get(snaps, 0), "name")), "monday");
	{
		char iqn[96];

		snprintf(iqn, sizeof(iqn), VDC_IQN_PREFIX ":8d7f0a1b2c3d:disk-%" PRId64, inst->id);
		assert_string_equal(json_string_value(json_object_get(e, "iqn")), iqn);
	}
	json_decref(e);

	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   inst->id, snap->id);
	assert_string_equal(snap->state, "available");
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"error\", \"err\": \"disk full\"}]}]",
		   inst->id, snap->id);
	assert_string_equal(snap->state, "error");
	assert_string_equal(snap->err, "disk full");

	/* rmdir: gone from the desired state. */
	rev = vdc_host_of(s1)->rev;
	assert_int_equal(vdc_obj_destroy(snap, &err), 0);
	assert_true(vdc_host_of(s1)->rev > rev);
	e = desired_entry(s1, inst->id);
	assert_int_equal(json_array_size(json_object_get(e, "snapshots")), 0);
	json_decref(e);
}

/* rollback: its checks in order, the restore asked for, kept over a restart. */
static void test_rollback(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *inst, *s1, *snap;
	struct vdc_inst_disk_desired dd;
	json_t *e, *restore;
	int64_t iid, sid;

	(void)state;
	inst = instance_with_disk(&s1);
	assert_int_equal(snap_rc(inst, "monday", &snap, &err), 0);
	iid = inst->id;
	sid = snap->id;

	assert_int_equal(rollback_rc(inst, "", &err), -EINVAL);
	assert_string_equal(err.msg, "rollback needs the name of a snapshot: rollback SNAP");
	assert_int_equal(rollback_rc(inst, "tuesday", &err), -ENOENT);
	assert_string_equal(err.msg, "instance web1 has no snapshot tuesday");
	/* Not before its storage host has taken it. */
	assert_int_equal(rollback_rc(inst, "monday", &err), -EAGAIN);
	assert_string_equal(err.msg, "snapshot monday of instance web1 is creating, not available");
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   iid, sid);

	/* Not while it is on. */
	unit_set(inst, "power", "on");
	assert_int_equal(rollback_rc(inst, "monday", &err), -EBUSY);
	assert_non_null(strstr(err.msg, "its disk is rolled back only while it is off and stopped"));
	e = desired_entry(s1, iid);
	assert_true(json_is_null(json_object_get(e, "restore")));
	json_decref(e);
	unit_set(inst, "power", "off");

	assert_true(vdc_disk_desired(inst, &dd) && dd.ready);
	assert_int_equal(rollback_rc(inst, "monday", &err), 0);
	/* Its hypervisor may not start it from a disk being restored, even before the host says so. */
	assert_true(vdc_disk_desired(inst, &dd));
	assert_false(dd.ready);
	e = desired_entry(s1, iid);
	restore = json_object_get(e, "restore");
	assert_int_equal(json_integer_value(json_object_get(restore, "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(restore, "snapshot")), sid);
	json_decref(e);
	/* The snapshot stays while the restore from it is under way. */
	assert_int_equal(vdc_obj_destroy(snap, &err), -EBUSY);
	assert_string_equal(err.msg, "instance web1 is being restored from snapshot monday");

	/* The counter and the snapshot survive a restart of vdcfs. */
	unit_model_reopen(dir);
	inst = unit_find(&vdc_kind_instances, "web1");
	s1 = vdc_host_find("s1");
	assert_non_null(inst);
	snap = vdc_obj_find(&vdc_kind_instance_snapshots, inst, "monday", 6);
	assert_non_null(snap);
	assert_int_equal(snap->id, sid);
	e = desired_entry(s1, iid);
	restore = json_object_get(e, "restore");
	assert_int_equal(json_integer_value(json_object_get(restore, "n")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(e, "snapshots"), 0), "id")),
			 sid);
	json_decref(e);

	/* Carried out: the disk is ready again, the snapshot may go, and the next restore is number 2. */
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"restore\": 1, \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   iid, sid);
	assert_true(vdc_disk_desired(inst, &dd) && dd.ready);
	assert_int_equal(rollback_rc(inst, "monday", &err), 0);
	e = desired_entry(s1, iid);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "restore"), "n")), 2);
	json_decref(e);
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"restore\": 2, \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   iid, sid);
	assert_int_equal(vdc_obj_destroy(snap, &err), 0);
}

/* snapshots/SNAP/disk: its bytes through its own target, once available. */
static void test_disk_of_a_snapshot(void **state)
{
	const struct vdc_block_ops *b = vdc_kind_instance_snapshots.block;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *inst, *s1, *snap;
	struct vdc_block_ep ep;
	char iqn[96];
	int rc;

	(void)state;
	assert_true(vdc_kind_instance_snapshots.has_data);
	assert_string_equal(vdc_kind_data_name(&vdc_kind_instance_snapshots), "disk");
	assert_ptr_equal(b, &vdc_lun_snap_block);
	inst = instance_with_disk(&s1);
	assert_int_equal(snap_rc(inst, "monday", &snap, &err), 0);
	rc = b->endpoint(snap, &ep, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EAGAIN);
	assert_non_null(strstr(err.msg, "snapshot monday of instance web1 is creating"));
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 ", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   inst->id, MIB(64), snap->id);
	assert_int_equal(b->endpoint(snap, &ep, &err), 0);
	snprintf(iqn, sizeof(iqn), VDC_IQN_PREFIX ":8d7f0a1b2c3d:snap-%" PRId64, snap->id);
	assert_string_equal(ep.iqn, iqn);
	assert_int_equal(ep.size, MIB(64));
	assert_int_equal(b->size(snap), MIB(64));
	/* Writable while the instance runs: the snapshot is not the running disk. */
	unit_set(inst, "power", "on");
	assert_int_equal(b->writable(snap, &err), 0);
	unit_set(inst, "power", "off");
	/* Not while the disk is rolled back to it. */
	assert_int_equal(rollback_rc(inst, "monday", &err), 0);
	rc = b->writable(snap, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	assert_string_equal(err.msg, "instance web1 is being restored from snapshot monday of instance web1; its bytes are written once that is done");
}

/* Snapshots of a volume keep their own folder: the two kinds never mix. */
static void test_volume_snapshots_apart(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *inst, *s1, *snap, *o;

	(void)state;
	inst = instance_with_disk(&s1);
	assert_int_equal(snap_rc(inst, "monday", &snap, &err), 0);
	assert_null(vdc_obj_find(&vdc_kind_snapshots, inst, "monday", 6));
	assert_int_equal(vdc_obj_create(&vdc_kind_snapshots, inst, "x", 1, 0, 0, &o, &err), -EPERM);
	assert_int_equal(inst->children[VDC_INSTANCE_NICS].count, 0);
	{
		struct strbuf p = STRBUF_INIT;

		vdc_obj_path(snap, &p);
		assert_string_equal(p.buf, "instances/web1/snapshots/monday");
		strbuf_release(&p);
	}
}

/*
 * A read of the disk while its guest may write it is pinned: a snapshot
 * that is no object, told to the storage host, read through its own
 * target once available, gone from the desired state when unpinned.
 */
static void test_point_in_time_reads(void **state)
{
	const struct vdc_block_ops *b = vdc_kind_instances.block;
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_obj *inst, *s1, *snap;
	struct vdc_block_ep ep;
	int64_t pin, pins[VDC_LUN_PINS_MAX];
	json_t *e, *snaps;
	char iqn[96];
	unsigned i;
	int rc;

	(void)state;
	inst = instance_with_disk(&s1);
	assert_int_equal(snap_rc(inst, "monday", &snap, &err), 0);
	assert_false(b->live(inst));   /* off: a read needs no pin */
	unit_set(inst, "power", "on");
	assert_true(b->live(inst));
	assert_int_equal(b->pin(inst, &pin, &err), 0);
	assert_true(pin > VDC_LUN_PIN_BASE);
	e = desired_entry(s1, inst->id);
	snaps = json_object_get(e, "snapshots");
	assert_int_equal(json_array_size(snaps), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(snaps, 1), "id")), pin);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(snaps, 1), "name")), "pin-"));
	json_decref(e);
	/* Not readable until its storage host took it. */
	rc = b->pin_endpoint(inst, pin, &ep, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EAGAIN);
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 ", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"available\"}]}]",
		   inst->id, MIB(64), pin);
	assert_int_equal(b->pin_endpoint(inst, pin, &ep, &err), 0);
	snprintf(iqn, sizeof(iqn), VDC_IQN_PREFIX ":8d7f0a1b2c3d:snap-%" PRId64, pin);
	assert_string_equal(ep.iqn, iqn);
	assert_int_equal(ep.size, MIB(64));
	assert_false(ep.writable);
	assert_string_equal(snap->state, "creating");   /* a pin is no snapshot of the tree */
	/* A storage host that cannot take it: the open fails with the reason. */
	unit_sta_report(s1, 10240, "[{\"id\": %" PRId64 ", \"state\": \"available\", \"size\": %" PRIu64 ", \"snapshots\": [{\"id\": %" PRId64 ", \"state\": \"error\", \"err\": \"disk full\"}]}]",
		   inst->id, MIB(64), pin);
	rc = b->pin_endpoint(inst, pin, &ep, &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EIO);
	assert_non_null(strstr(err.msg, "disk full"));
	/* At most VDC_LUN_PINS_MAX at once. */
	for (i = 1; i < VDC_LUN_PINS_MAX; i++)
		assert_int_equal(b->pin(inst, &pins[i], &err), 0);
	rc = b->pin(inst, &pins[0], &err);
	check_err(rc, &err);
	assert_int_equal(rc, -EBUSY);
	for (i = 1; i < VDC_LUN_PINS_MAX; i++)
		b->unpin(inst, pins[i]);
	b->unpin(inst, pin);
	b->unpin(inst, pin);   /* twice: nothing */
	e = desired_entry(s1, inst->id);
	assert_int_equal(json_array_size(json_object_get(e, "snapshots")), 1);
	json_decref(e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_folder),
		T(test_refused_without_a_disk),
		T(test_point_in_time_reads),
		T(test_desired_and_states),
		T(test_rollback),
		T(test_volume_snapshots_apart),
		T(test_disk_of_a_snapshot),
	};

	return cmocka_run_group_tests_name("disk snapshots", tests, NULL, NULL);
}
