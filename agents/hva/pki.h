/*
 * This host's TLS files for libvirtd (live migration, docs/vdc-hva.md):
 * the data center's CA, the host's certificate and key from the desired
 * state's "pki", written as libvirt's pki layout in STATE/pki, which the
 * host's libvirtd listens with (listen_tls) and which the source libvirtd
 * presents as a client when it drives a migration (?pkipath=STATE/pki).
 */
#ifndef VDC_HVA_PKI_H
#define VDC_HVA_PKI_H

#include <stdbool.h>
#include <stddef.h>

#include "desired.h"
#include "err.h"

/* The folder of the files, STATE/pki, into `out` (PATH_MAX bytes). */
void hva_pki_dir(const char *statedir, char *out);

/*
 * Make STATE/pki hold `pki`'s texts: cacert.pem, clientcert.pem and
 * servercert.pem (0644), clientkey.pem and serverkey.pem (0600), each
 * replaced atomically (tmp, fsync, rename) and only when its bytes
 * differ. `*changed` says whether a file was replaced. 0, or the first
 * failure with the sentence (the files written before it stay).
 */
int hva_pki_write(const char *statedir, const struct hva_pki_spec *pki, bool *changed, struct vdc_err *err);

/*
 * Ask the host's libvirtd to load its TLS files again (`virt-admin
 * server-update-tls libvirtd`, which is virAdmServerUpdateTlsFiles; then
 * virtproxyd's, for modular daemons), so new certificates are used
 * without a restart. Best effort: 0, or why not (a daemon that does not
 * listen with TLS, no admin socket, no virt-admin).
 */
int hva_pki_reload(struct vdc_err *err);

/*
 * The worker's step: write `pki` (hva_pki_write) and, when a file
 * changed, reload (hva_pki_reload, a failure only logged). A malformed
 * pki is logged once per sentence (`said`, the last one logged). 0, or
 * the write's failure (logged): then try again later.
 */
int hva_pki_sync(const char *statedir, const struct hva_pki_spec *pki, char *said, size_t said_len);

#endif
