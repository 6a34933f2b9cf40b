#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"
#include "tls.h"

int vdc_state_read(const char *path, char **out, struct vdc_err *err)
{
	__do_strbuf struct strbuf b = STRBUF_INIT;
	char chunk[4096];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		strbuf_add(&b, chunk, (size_t)r);
	close(fd);
	if (r < 0)
		return vdc_err_set(err, -EIO, "cannot read %s", path);
	*out = strbuf_detach(&b, NULL);
	return 0;
}

int vdc_state_write(const char *path, const void *data, size_t len, struct vdc_err *err)
{
	__do_strbuf struct strbuf tmp = STRBUF_INIT;
	int fd;

	strbuf_addf(&tmp, "%s.tmp", path);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot write %s: %s", tmp.buf, strerror(errno));
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		close(fd);
		unlink(tmp.buf);
		return vdc_err_set(err, -EIO, "cannot write %s", tmp.buf);
	}
	close(fd);
	if (rename(tmp.buf, path) < 0)
		return vdc_err_set(err, -errno, "cannot rename %s: %s", tmp.buf, strerror(errno));
	return 0;
}

/* What a certificate made here is for. */
enum cert_kind { CERT_SERVER_PIN, CERT_CA, CERT_HOST };

/* The CA that signs a certificate, parsed (NULL members: self-signed). */
struct signer {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

/* Set what `kind` needs: subject, constraints, usages, the host's address. */
static int cert_fill(gnutls_x509_crt_t crt, enum cert_kind kind, const char *cn, const char *ip)
{
	unsigned char addr[4];

	if (gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)) < 0)
		return -1;
	switch (kind) {
	case CERT_SERVER_PIN:
		return gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
	case CERT_CA:
		if (gnutls_x509_crt_set_basic_constraints(crt, 1, -1) < 0)
			return -1;
		return gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	case CERT_HOST:
		/* libvirt refuses a certificate whose critical key usage lacks either bit. */
		if (inet_pton(AF_INET, ip, addr) != 1 ||
		    gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
		    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT) < 0 ||
		    gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0 ||
		    gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0) < 0 ||
		    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, addr, sizeof(addr),
							 GNUTLS_FSAN_SET) < 0)
			return -1;
		return 0;
	}
	return -1;
}

/* A new ECDSA P-256 key and a certificate for it signed by `by` (or by itself), as PEM. */
static int make_cert(const struct signer *by, enum cert_kind kind, const char *cn, const char *ip, char **cert_pem,
		     char **key_pem, struct vdc_err *err)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t k = { NULL, 0 }, c = { NULL, 0 };
	unsigned char serial[16], id[64];
	size_t idlen = sizeof(id);
	time_t now = time(NULL);
	int rc = -EIO;

	if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_crt_init(&crt) < 0)
		goto out;
	if (gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
		goto out;
	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 3600) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 20L * 365 * 24 * 3600) < 0 ||
	    gnutls_x509_crt_set_key(crt, key) < 0 ||
	    cert_fill(crt, kind, cn, ip) < 0)
		goto out;
	if (kind != CERT_SERVER_PIN &&
	    (gnutls_x509_crt_get_key_id(crt, 0, id, &idlen) < 0 ||
	     gnutls_x509_crt_set_subject_key_id(crt, id, idlen) < 0))
		goto out;
	idlen = sizeof(id);
	if (by && (gnutls_x509_crt_get_subject_key_id(by->crt, id, &idlen, NULL) < 0 ||
		   gnutls_x509_crt_set_authority_key_id(crt, id, idlen) < 0))
		goto out;
	if (gnutls_x509_crt_sign2(crt, by ? by->crt : crt, by ? by->key : key, GNUTLS_DIG_SHA256, 0) < 0)
		goto out;
	/* The agent server's key as it always was; libvirt's in PKCS#8, as its tools write it. */
	if ((kind == CERT_SERVER_PIN ? gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &k) :
	     gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &k)) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &c) < 0)
		goto out;
	*key_pem = xstrndup((const char *)k.data, k.size);
	*cert_pem = xstrndup((const char *)c.data, c.size);
	rc = 0;
out:
	gnutls_free(k.data);
	gnutls_free(c.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (rc < 0)
		vdc_err_set(err, rc, "cannot make a certificate for %s", cn);
	return rc;
}

static void base64(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = a[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = a[in[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = a[in[i] >> 2];
		if (i + 1 < n) {
			out[o++] = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			out[o++] = a[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = a[(in[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = 0;
}

/* curl's pin: sha256// and the base64 of the SHA-256 of the SubjectPublicKeyInfo. */
static int make_pin(const char *cert_pem, char *pin, struct vdc_err *err)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t c = { (unsigned char *)cert_pem, (unsigned)strlen(cert_pem) }, spki = { NULL, 0 };
	unsigned char d[32];
	int rc = -EIO;

	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_pubkey_init(&pub) < 0)
		goto out;
	if (gnutls_x509_crt_import(crt, &c, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0)
		goto out;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, d);
	memcpy(pin, "sha256//", 8);
	base64(d, sizeof(d), pin + 8);
	rc = 0;
out:
	gnutls_free(spki.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (rc < 0)
		vdc_err_set(err, rc, "cannot read the agent server's certificate");
	return rc;
}

int vdc_tls_setup(const char *statedir, struct vdc_tls *t, struct vdc_err *err)
{
	__do_strbuf struct strbuf dir = STRBUF_INIT;
	__do_strbuf struct strbuf cp = STRBUF_INIT;
	__do_strbuf struct strbuf kp = STRBUF_INIT;
	int rc;

	memset(t, 0, sizeof(*t));
	strbuf_addf(&dir, "%s/tls", statedir);
	if (mkdir(dir.buf, 0700) < 0 && errno != EEXIST)
		return vdc_err_set(err, -errno, "cannot make %s: %s", dir.buf, strerror(errno));
	strbuf_addf(&cp, "%s/cert.pem", dir.buf);
	strbuf_addf(&kp, "%s/key.pem", dir.buf);
	if (vdc_state_read(kp.buf, &t->key_pem, err) == 0 && vdc_state_read(cp.buf, &t->cert_pem, err) == 0)
		return make_pin(t->cert_pem, t->pin, err);
	vdc_tls_release(t);
	/* First start (or a half-made pair): make both, the key first. */
	rc = make_cert(NULL, CERT_SERVER_PIN, "vdcfs", NULL, &t->cert_pem, &t->key_pem, err);
	if (rc == 0)
		rc = vdc_state_write(kp.buf, t->key_pem, strlen(t->key_pem), err);
	if (rc == 0)
		rc = vdc_state_write(cp.buf, t->cert_pem, strlen(t->cert_pem), err);
	if (rc == 0)
		rc = make_pin(t->cert_pem, t->pin, err);
	if (rc < 0)
		vdc_tls_release(t);
	return rc;
}

void vdc_tls_release(struct vdc_tls *t)
{
	free(t->cert_pem);
	free(t->key_pem);
	t->cert_pem = t->key_pem = NULL;
}

/* ---- the data center's CA for its hypervisors ---- */

int vdc_tls_ca_setup(const char *statedir, struct vdc_tls *ca, struct vdc_err *err)
{
	__do_strbuf struct strbuf cp = STRBUF_INIT;
	__do_strbuf struct strbuf kp = STRBUF_INIT;
	int rc;

	memset(ca, 0, sizeof(*ca));
	strbuf_addf(&cp, "%s/tls", statedir);
	if (mkdir(cp.buf, 0700) < 0 && errno != EEXIST)
		return vdc_err_set(err, -errno, "cannot make %s: %s", cp.buf, strerror(errno));
	strbuf_addf(&cp, "/ca.pem");
	strbuf_addf(&kp, "%s/tls/ca-key.pem", statedir);
	if (vdc_state_read(kp.buf, &ca->key_pem, err) == 0 && vdc_state_read(cp.buf, &ca->cert_pem, err) == 0)
		return 0;
	vdc_tls_release(ca);
	rc = make_cert(NULL, CERT_CA, "vdcfs data center CA", NULL, &ca->cert_pem, &ca->key_pem, err);
	if (rc == 0)
		rc = vdc_state_write(kp.buf, ca->key_pem, strlen(ca->key_pem), err);
	if (rc == 0)
		rc = vdc_state_write(cp.buf, ca->cert_pem, strlen(ca->cert_pem), err);
	if (rc < 0)
		vdc_tls_release(ca);
	return rc;
}

int vdc_tls_issue(const struct vdc_tls *ca, const char *name, const char *ip, char **cert_pem, char **key_pem,
		  struct vdc_err *err)
{
	gnutls_datum_t c = { (unsigned char *)ca->cert_pem, (unsigned)strlen(ca->cert_pem) };
	gnutls_datum_t k = { (unsigned char *)ca->key_pem, (unsigned)strlen(ca->key_pem) };
	struct signer by = { NULL, NULL };
	int rc = -EIO;

	if (gnutls_x509_crt_init(&by.crt) < 0 || gnutls_x509_privkey_init(&by.key) < 0 ||
	    gnutls_x509_crt_import(by.crt, &c, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_privkey_import(by.key, &k, GNUTLS_X509_FMT_PEM) < 0)
		vdc_err_set(err, rc, "cannot read the data center's CA in the state folder");
	else
		rc = make_cert(&by, CERT_HOST, name, ip, cert_pem, key_pem, err);
	if (by.crt)
		gnutls_x509_crt_deinit(by.crt);
	if (by.key)
		gnutls_x509_privkey_deinit(by.key);
	return rc;
}
