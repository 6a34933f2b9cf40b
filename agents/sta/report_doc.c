/*
 * vdc-sta's report written from plain values (report_doc.h has the
 * contract); the members and their order are the protocol's.
 */
#include "report_doc.h"
#include "wire_doc.h"

json_t *sta_report_snapshot_json(uint64_t id, const char *state, const char *err)
{
	return json_pack("{s:I, s:s, s:s}", VDC_WIRE_ID, (json_int_t)id, VDC_WIRE_STATE, state, VDC_WIRE_ERR, err);
}

json_t *sta_report_volume_json(uint64_t id, const char *state, const char *err, uint64_t size,
			       uint64_t restore, json_t *snapshots)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:o}", VDC_WIRE_ID, (json_int_t)id, VDC_WIRE_STATE, state,
			 VDC_WIRE_ERR, err, VDC_WIRE_SIZE, (json_int_t)size,
			 VDC_WIRE_RESTORE, (json_int_t)restore,
			 VDC_WIRE_SNAPSHOTS, snapshots);
}

uint64_t sta_report_volume_id(json_t *vol)
{
	return (uint64_t)json_integer_value(json_object_get(vol, VDC_WIRE_ID));
}

void sta_report_volume_complete(json_t *vol, uint64_t allocated, const char *progress)
{
	json_object_set_new(vol, VDC_WIRE_ALLOCATED, json_integer((json_int_t)allocated));
	json_object_set_new(vol, VDC_WIRE_PROGRESS, json_string(progress));
}

json_t *sta_report_json(uint64_t epoch, uint64_t seq, uint64_t rev, const struct sta_report_facts *f,
			json_t *volumes)
{
	return json_pack("{s:I, s:I, s:I, s:{s:I, s:s, s:s, s:s}, s:o}",
			 VDC_WIRE_EPOCH, (json_int_t)epoch,
			 VDC_WIRE_SEQ, (json_int_t)seq,
			 VDC_WIRE_REV, (json_int_t)rev,
			 VDC_WIRE_FACTS,
			 VDC_WIRE_DISK_MIB, (json_int_t)f->disk_mib,
			 VDC_WIRE_DRIVER, f->driver,
			 VDC_WIRE_PORTAL, f->portal,
			 VDC_WIRE_VERSION, f->version,
			 VDC_WIRE_VOLUMES, volumes);
}
