/*
 * The report vdc-sta sends, POST /v1/hosts/NAME/report (docs/storage.md,
 * "Report of a storage host"), written from plain values with the member
 * names of backend/wire_doc.h. reconcile.c (each volume's entry, after a
 * pass of the worker) and report.c (the bytes each file holds now, the
 * copy under way, the document) gather the values; these only write them,
 * so that tests/unit/test_wire_roundtrip.c hands what vdc-sta writes to
 * vdcfs's parser (backend/agent_doc.c).
 *
 * Each returns a new reference (NULL only when memory ran out); a json_t
 * passed in is taken (stolen), as json_pack's "o" does.
 */
#ifndef VDC_STA_REPORT_DOC_H
#define VDC_STA_REPORT_DOC_H

#include <stdint.h>

#include <jansson.h>

/* What the host says of itself. */
struct sta_report_facts {
	uint64_t disk_mib;
	const char *driver, *portal, *version;
};

/* A snapshot of a volume: {id, state, err}. */
json_t *sta_report_snapshot_json(uint64_t id, const char *state, const char *err);

/* A volume as the worker saw it: {id, state, err, size, restore, snapshots}. */
json_t *sta_report_volume_json(uint64_t id, const char *state, const char *err, uint64_t size,
			       uint64_t restore, json_t *snapshots);

/* The id of a volume's entry; then its "allocated" bytes and "progress" line added at the end of it. */
uint64_t sta_report_volume_id(json_t *vol);
void sta_report_volume_complete(json_t *vol, uint64_t allocated, const char *progress);

/* The report: {epoch, seq, rev, facts, volumes}. */
json_t *sta_report_json(uint64_t epoch, uint64_t seq, uint64_t rev, const struct sta_report_facts *f,
			json_t *volumes);

#endif
