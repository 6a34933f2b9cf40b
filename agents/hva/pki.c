/*
 * STATE/pki from the desired state's "pki" (pki.h has the contract). The
 * texts were checked by desired.c (PEM of their kind, printable ASCII);
 * here they only reach files. A file is rewritten only when its bytes
 * differ, so a desired state that repeats the same pki (every revision
 * does) writes nothing and reloads nothing.
 *
 * The reload runs virt-admin (libvirt-clients) rather than calling
 * libvirt-admin: libvirt 9.0's libvirt-admin.so and libvirt.so both
 * register the GObject types virAdmServer and virAdmClient, and a process
 * that links both crashes in its first admin call.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "file.h"
#include "log.h"
#include "pki.h"
#include "process.h"

void hva_pki_dir(const char *statedir, char *out)
{
	vdc_path(out, "%s/pki", statedir);
}

/* Replace `dir`/`name` with `text` when it holds other bytes. */
static int write_if_changed(const char *dir, const char *name, const char *text, mode_t mode, bool *changed,
			    struct vdc_err *err)
{
	struct strbuf have = STRBUF_INIT;
	char path[PATH_MAX];
	size_t len = strlen(text);
	bool same;
	int rc;

	vdc_path(path, "%s/%s", dir, name);
	same = vdc_file_read(path, HVA_PEM_MAX + 1, &have, NULL) == 0 && have.len == len &&
	       memcmp(have.buf, text, len) == 0;
	strbuf_release(&have);
	if (same)
		return 0;
	rc = vdc_file_write_atomic(path, text, len, mode, err);
	if (rc < 0)
		return rc;
	*changed = true;
	return 0;
}

int hva_pki_write(const char *statedir, const struct hva_pki_spec *pki, bool *changed, struct vdc_err *err)
{
	const struct {
		const char *name;
		const char *text;
		mode_t mode;
	} files[] = {
		{ "cacert.pem", pki->ca, 0644 },
		{ "clientcert.pem", pki->cert, 0644 },
		{ "servercert.pem", pki->cert, 0644 },
		/* The keys before nothing else can read them: written 0600 from the start. */
		{ "clientkey.pem", pki->key, 0600 },
		{ "serverkey.pem", pki->key, 0600 },
	};
	char dir[PATH_MAX];
	size_t i;
	int rc;

	*changed = false;
	if (!pki->present)
		return 0;
	hva_pki_dir(statedir, dir);
	rc = vdc_mkdirs(dir, 0755, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		rc = write_if_changed(dir, files[i].name, files[i].text, files[i].mode, changed, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "cannot write the host's TLS files");
	}
	return 0;
}

int hva_pki_reload(struct vdc_err *err)
{
	/* The monolithic daemon, then the modular one's proxy (which serves TLS there). */
	static const char *const daemons[] = { "libvirtd", "virtproxyd" };
	size_t i;
	int rc = -ENOENT;

	for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
		char uri[64];
		const char *argv[] = { "virt-admin", "-q", "-c", uri, "server-update-tls", daemons[i], NULL };

		snprintf(uri, sizeof(uri), "%s:///system", daemons[i]);
		rc = vdc_spawn(argv, NULL, 20, err);
		if (rc == 0 || rc == -ENOENT)
			break;
	}
	if (rc == -ENOENT)
		vdc_err_set(err, -ENOENT, "virt-admin is not installed (apt-get install libvirt-clients)");
	return rc;
}

int hva_pki_sync(const char *statedir, const struct hva_pki_spec *pki, char *said, size_t said_len)
{
	struct vdc_err err = VDC_ERR_INIT;
	bool changed = false;

	if (pki->err[0] && strcmp(pki->err, said) != 0) {
		log_error("the desired state's TLS files are not used: %s", pki->err);
		snprintf(said, said_len, "%s", pki->err);
	}
	if (!pki->present)
		return 0;
	if (hva_pki_write(statedir, pki, &changed, &err) < 0) {
		log_error("%s", err.msg);
		return err.code;
	}
	if (!changed)
		return 0;
	log_info("wrote this host's TLS files (the data center's CA, its certificate and key) to %s/pki", statedir);
	if (hva_pki_reload(&err) < 0)
		log_warn("libvirtd did not load them now (%s); it does when it starts again", err.msg);
	else
		log_info("libvirtd loaded its TLS files again");
	return 0;
}
