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
 * jansson's header: the kinds give their part of the desired state and take
 * reports as plain C structs (their own headers, agent_doc.h), and the
 * agent server sends and receives text. The parts of the desired state
 * in jansson's terms (struct json_t, below) are for wire.c itself and the
 * unit tests that look into them.
 *
 * Contract
 * --------
 * - Field names, order and types are the protocol's: a change here is a
 *   change of the protocol, which the agents in agents/ read.
 * - Rendering expects the model's read lock, like the rest of the model.
 * - Texts returned are compact JSON, malloc'd, the caller frees them;
 *   NULL only when memory ran out.
 */
#ifndef VDC_WIRE_H
#define VDC_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "model.h"

struct json_t;   /* jansson's json_t: only wire.c and the unit tests see inside it */

/*
 * What the agent server knows of an image's data (agentd.c computes the
 * sums in the background): true with its sha256 in `hex` once known; its
 * size and whether it is qcow2 in any case.
 */
typedef bool vdc_wire_image_sum_fn(const struct vdc_obj *image, char hex[65], off_t *size, bool *qcow2);

/*
 * GET /v1/hosts/NAME/desired: the desired state of `host` (read lock
 * held), a hypervisor's instances, volumes, networks and security groups
 * or a storage host's volumes.
 */
char *vdc_wire_desired(struct vdc_obj *host, vdc_wire_image_sum_fn *image_sum);
/* The data center's CA certificate (PEM) a hypervisor's "pki" carries; NULL: none (no "pki"). */
void vdc_wire_pki_ca(const char *ca_pem);

/*
 * The desired state's parts of networks (from network.c's structs): a
 * nic's entry, the groups an instance is in, and the "networks" and
 * "security_groups" of hypervisor host `host` (added to `root`).
 */
struct json_t *vdc_nic_json(const struct vdc_obj *nic);
struct json_t *vdc_instance_groups_json(const struct vdc_obj *inst);
void vdc_network_desired(struct vdc_obj *host, struct json_t *root);

/*
 * The desired state's parts of volumes (from volume.c's structs, JSON of
 * docs/storage.md): a storage host's "volumes", and those an instance
 * attaches.
 */
struct json_t *vdc_sta_desired_volumes(const struct vdc_obj *host, vdc_wire_image_sum_fn *image_sum);
struct json_t *vdc_instance_volumes_json(const struct vdc_obj *inst);

/* The short answers: {"error": msg}, {"ok": true}, a console's {"have": n}, a join's {"name", "token"}. */
char *vdc_wire_error(const char *msg);
char *vdc_wire_ok(void);
char *vdc_wire_have(uint64_t have);
char *vdc_wire_joined(const char *name, const char *token);

/* Console input for a host's guests (wire_doc.h): `n` entries of `list`. */
struct vdc_console_input;
char *vdc_wire_console_input(const struct vdc_console_input *list, size_t n);

#endif
