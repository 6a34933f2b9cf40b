/*
 * Layer: support of the agent server, at the top.
 *
 * The agent server's TLS identity: a self-signed ECDSA P-256 certificate
 * made at first start in STATE/tls/ (0600), and its pin, which agents
 * check instead of a CA (docs/agent-protocol.md).
 */
#ifndef VDC_TLS_H
#define VDC_TLS_H

#include <stddef.h>

#include "err.h"

struct vdc_tls {
	char *cert_pem;
	char *key_pem;
	char pin[64];   /* "sha256//" + base64 of the SHA-256 of the public key */
};

/* Load STATE/tls/{cert,key}.pem, making them when missing. */
int vdc_tls_setup(const char *statedir, struct vdc_tls *t, struct vdc_err *err);
void vdc_tls_release(struct vdc_tls *t);

/*
 * The data center's certificate authority for its hypervisors' libvirtd
 * (live migration, docs/storage.md "Moving"): an ECDSA P-256 CA made at
 * first start in STATE/tls/{ca,ca-key}.pem, and the host certificates it
 * issues. A host's certificate names the host (CN) and its underlay
 * address (subjectAltName IP, which is what a libvirt client checks
 * against the qemu+tls:// URI), and serves both as a TLS server's (its
 * libvirtd) and a TLS client's (its libvirtd migrating to another).
 */
int vdc_tls_ca_setup(const char *statedir, struct vdc_tls *ca, struct vdc_err *err);
/* A new key and certificate for host `name` at IPv4 address `ip` (PEM, malloc'd). */
int vdc_tls_issue(const struct vdc_tls *ca, const char *name, const char *ip, char **cert_pem, char **key_pem,
		  struct vdc_err *err);

/*
 * A small file of the state folder read whole (malloc'd into *out;
 * -ENOENT and friends as they are, unset err, when it cannot be opened),
 * and written whole, mode 0600, through a temporary file and rename, so a
 * crash leaves the old or the new content.
 */
int vdc_state_read(const char *path, char **out, struct vdc_err *err);
int vdc_state_write(const char *path, const void *data, size_t len, struct vdc_err *err);

#endif
