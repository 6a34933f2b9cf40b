/*
 * The wire format of the agents' documents (wire.h has the contract):
 * JSON built from and read into the plain structs the kinds give and
 * take. The documents agents send are parsed and checked in agent_doc.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_doc.h"
#include "strbuf.h"
#include "volume.h"
#include "wire.h"

/* ---- what storage hosts report ---- */

/* One volume of the list as volume.c takes it; false when it is not of the list's shape. */
static bool sta_vol_of(json_t *it, struct vdc_doc_sta_vol *out)
{
	json_int_t id = 0, size = 0, allocated = 0, restored = 0;
	const char *state = "", *err = "", *progress = "";
	json_t *snaps = NULL, *s;
	size_t i;

	if (json_unpack(it, "{s:I, s:s, s?s, s?I, s?I, s?I, s?s, s?o}", "id", &id, "state", &state, "err", &err,
			"size", &size, "allocated", &allocated, "restore", &restored, "progress", &progress,
			"snapshots", &snaps) < 0)
		return false;
	memset(out, 0, sizeof(*out));
	out->id = id;
	snprintf(out->state, sizeof(out->state), "%s", state);
	snprintf(out->err, sizeof(out->err), "%s", err ? err : "");
	snprintf(out->progress, sizeof(out->progress), "%s", progress ? progress : "");
	out->size = size;
	out->allocated = allocated;
	out->restore = restored;
	out->snaps = xcalloc(json_array_size(snaps) + 1, sizeof(*out->snaps));
	json_array_foreach(snaps, i, s) {
		json_int_t sid = 0;
		const char *sstate = "", *serr = "";
		struct vdc_doc_vol *snap = &out->snaps[out->nsnaps];

		if (json_unpack(s, "{s:I, s:s, s?s}", "id", &sid, "state", &sstate, "err", &serr) < 0)
			continue;
		snap->id = sid;
		snprintf(snap->state, sizeof(snap->state), "%s", sstate);
		snprintf(snap->err, sizeof(snap->err), "%s", serr ? serr : "");
		out->nsnaps++;
	}
	return true;
}

void vdc_sta_report(struct vdc_obj *host, json_t *volumes)
{
	struct vdc_doc_sta_vol *vols = xcalloc(json_array_size(volumes) + 1, sizeof(*vols));
	size_t i, n = 0;
	json_t *it;

	json_array_foreach(volumes, i, it)
		if (sta_vol_of(it, &vols[n]))
			n++;
	vdc_volumes_report(host, vols, n);
	for (i = 0; i < n; i++)
		free(vols[i].snaps);
	free(vols);
}
