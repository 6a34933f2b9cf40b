/*
 * The cloud-init NoCloud seed of an instance: a small vfat filesystem
 * labelled CIDATA holding meta-data, user-data and (with NICs)
 * network-config, attached to the guest as a read-only virtio disk.
 *
 * The texts are made by pure functions (golden files in tests/unit/golden/
 * hva-seed-*); the filesystem is made without a loop device or a mount:
 * `mkfs.vfat -C` on a file, then `mcopy -i` (tests/image/make-seed.sh is
 * the same in shell, and tests/image/init is the reader the test guest
 * has).
 */
#ifndef VDC_HVA_SEED_H
#define VDC_HVA_SEED_H

#include "desired.h"
#include "err.h"
#include "strbuf.h"

/*
 * meta-data: instance-id (the domain name, which is unique to the
 * instance), local-hostname and public-keys. Keys are plain YAML scalars
 * where that is safe, single-quoted otherwise.
 */
void hva_seed_meta_data(const struct hva_instance_spec *in, struct strbuf *out);

/* network-config version 2, one DHCP ethernet per NIC matched by MAC; empty without NICs. */
void hva_seed_network_config(const struct hva_instance_spec *in, struct strbuf *out);

/*
 * Make `dir`/seed.img for `in` unless it exists with the same content: the
 * texts are kept in `dir`/seed/ to compare with. The new image is made
 * beside and renamed into place.
 */
int hva_seed_build(const char *dir, const struct hva_instance_spec *in, struct vdc_err *err);

#endif
