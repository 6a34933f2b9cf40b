/*
 * The desired state of a storage host, as vdcfs answers
 * GET /v1/hosts/NAME/desired (docs/storage.md, "Desired state of a
 * storage host"), parsed and checked.
 *
 * Nothing from the answer reaches a path or an argv unchecked: ids are
 * numbers, the IQN must be this data center's (`iqn.2026-11.org.vdcfs:
 * DC12:`), initiator names are IQNs (never tgt's `ALL`), the CHAP user a
 * name and its secret 32 hex digits. A volume entry that fails a check
 * keeps its id (so it can be reported) and carries the reason in `err`;
 * it is not acted on. An entry without a usable id is dropped. While any
 * entry is malformed, the agent removes nothing (it cannot tell what that
 * entry still owns).
 */
#ifndef VDC_STA_DESIRED_H
#define VDC_STA_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "image.h"
#include "validate.h"
#include "vdc_limits.h"

#define STA_DC_MAX 64
#define STA_IQN_MAX 223                   /* RFC 3720's limit */
#define STA_SECRET_LEN 32
#define STA_INITIATORS_MAX 64
#define STA_SNAPSHOTS_MAX VDC_SNAPSHOTS_MAX   /* vdcfs refuses more first (backend/vdc_limits.h) */
#define STA_SIZE_MAX VDC_VOLUME_SIZE_MAX
#define STA_HEARTBEAT_MAX 3600
/* What every IQN of vdcfs starts with; then DC12 and ':'. */
#define STA_IQN_BASE "iqn.2026-11.org.vdcfs:"

struct sta_snapshot_spec {
	uint64_t id;
	char name[VDC_NAME_MAX + 1];
};

struct sta_volume_spec {
	uint64_t id;
	char name[VDC_NAME_MAX + 1];
	char iqn[STA_IQN_MAX + 1];
	uint64_t size;                        /* bytes, a multiple of 512 */
	char chap_user[VDC_NAME_MAX + 1];
	char chap_secret[STA_SECRET_LEN + 1];
	char (*initiators)[STA_IQN_MAX + 1];
	size_t n_initiators;
	struct sta_snapshot_spec *snapshots;
	size_t n_snapshots;
	bool restore;                         /* a restore counter was sent */
	uint64_t restore_n;
	/* Its source: exactly one of a snapshot's id and another volume's (a clone); the other is 0. */
	uint64_t restore_snapshot, restore_volume;
	/* What a new file is made from (an instance's disk); ignored once the file exists. */
	struct vdc_image_spec image;
	char err[VDC_ERR_MSG_MAX];            /* non-empty: malformed, not acted on */
};

struct sta_desired {
	uint64_t rev;
	char dc[STA_DC_MAX + 1];
	char iqn_prefix[STA_IQN_MAX + 1];     /* "iqn.2026-11.org.vdcfs:DC12:" */
	unsigned heartbeat;                   /* 0 when the server named none */
	struct sta_volume_spec *vol;
	size_t n;
};

/*
 * Parse the JSON text `json`/`len` into `d`. Fails (-EINVAL) only when
 * the document as a whole is unusable: not an object, no rev, no dc of
 * at least 12 hex digits, no volume list. Release `d` with
 * sta_desired_release() either way.
 */
int sta_desired_parse(const char *json, size_t len, struct sta_desired *d, struct vdc_err *err);

/* The same, from a parsed jansson object (a json_t *). */
int sta_desired_from_json(const void *json, struct sta_desired *d, struct vdc_err *err);

void sta_desired_release(struct sta_desired *d);

/* The entry of volume `id`, or NULL. */
const struct sta_volume_spec *sta_desired_volume(const struct sta_desired *d, uint64_t id);

/* The entry of volume `iqn`, or NULL. */
const struct sta_volume_spec *sta_desired_by_iqn(const struct sta_desired *d, const char *iqn);

/* Whether snapshot `id` is in the list of any volume; `*vol` gets its volume. */
bool sta_desired_has_snapshot(const struct sta_desired *d, uint64_t id,
			      const struct sta_volume_spec **vol);

/*
 * Every available snapshot is exported as a target of its own
 * (docs/storage.md, "Snapshots' bytes"), named from the desired state
 * alone (nothing new is sent for it): IQN `PREFIX` "snap-ID" (the data
 * center's prefix, d->iqn_prefix), CHAP user "snap-ID" with its volume's
 * secret, vdcfs's initiator (`PREFIX` "control") alone in its ACL.
 */
void sta_snapshot_iqn(const struct sta_desired *d, uint64_t id, char out[STA_IQN_MAX + 1]);
void sta_snapshot_user(uint64_t id, char out[VDC_NAME_MAX + 1]);
void sta_control_initiator(const struct sta_desired *d, char out[STA_IQN_MAX + 1]);
/* The id of the desired snapshot whose target `iqn` is, or 0. */
uint64_t sta_desired_snapshot_by_iqn(const struct sta_desired *d, const char *iqn);
/* Whether CHAP user `user` is wanted: a desired volume's, or a desired snapshot's "snap-ID". */
bool sta_desired_user(const struct sta_desired *d, const char *user);
/* The id N of a name "snap-N" (N without leading zeros), or 0. */
uint64_t sta_snapshot_user_id(const char *user);

/*
 * Whether a disk of `v->size` bytes holds image `v->image` whose raw
 * form is `image_size` bytes: -EFBIG with a sentence ("disk of 16M is
 * smaller than image tiny's 32M") when it does not.
 */
int sta_image_fits(const struct sta_volume_spec *v, uint64_t image_size, struct vdc_err *err);

/* Check an IQN: "iqn." then 1-223 of [a-z0-9.:-]; -EINVAL with a sentence. */
int sta_iqn_check(const char *iqn, struct vdc_err *err);

#endif
