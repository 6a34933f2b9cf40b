/*
 * Layer: the wire format, above the kinds and reconcile.c (it reads what
 * they give and hands them what agents sent) and below the agent server
 * (docs/HACKING.md, "Layers").
 *
 * Every JSON document the control plane exchanges with its agents
 * (docs/agent-protocol.md, docs/storage.md, docs/networks.md): the
 * desired state of a host and the server's short answers rendered here,
 * the documents agents send parsed by its other half, agent_doc.c. These
 * two files are the only ones of backend/ and vdcfs/ that include
 * <jansson.h>: the kinds give their part of the desired state and take
 * reports as plain C structs (their own headers, agent_doc.h), and the
 * agent server sends and receives text.
 *
 * Contract
 * --------
 * - Field names, order and types are the protocol's: a change here is a
 *   change of the protocol, which the agents in agents/ read.
 * - Rendering expects the model's read lock; the functions that record
 *   (vdc_sta_report) the write lock, like the rest of the model.
 * - Texts returned are compact JSON, malloc'd, the caller frees them;
 *   NULL only when memory ran out.
 */
#ifndef VDC_WIRE_H
#define VDC_WIRE_H

#include <jansson.h>

#include "model.h"

/*
 * A storage host's list of volumes as JSON (each {"id", "state", "err"?,
 * "size"?, "allocated"?, "restore"?, "progress"?, "snapshots"?}), recorded
 * through vdc_volumes_report(); entries that are not of that shape are
 * left out. The agent server parses reports with agent_doc.c instead;
 * this is the same record from a document already in jansson's hands.
 */
void vdc_sta_report(struct vdc_obj *host, json_t *volumes);

#endif
