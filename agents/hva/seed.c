#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "seed.h"
#include "process.h"

#define SPAWN_TIMEOUT_S 60

/* Whether `s` can be a plain YAML scalar in a block sequence, as written. */
static bool yaml_plain_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
			  (s[0] >= '0' && s[0] <= '9')))
		return false;
	if (s[len - 1] == ' ' || s[len - 1] == ':')
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			return false;
		if (c == ':' && s[i + 1] == ' ')
			return false;
		if (c == '#' && i > 0 && s[i - 1] == ' ')
			return false;
	}
	return true;
}

static void yaml_scalar(struct strbuf *out, const char *s)
{
	if (yaml_plain_ok(s)) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_addch(out, '\'');
		strbuf_addch(out, *s);
	}
	strbuf_addch(out, '\'');
}

/*
 * Whether a host name reads back as a string when written plain: YAML
 * takes "123" for a number and "no" or "null" for other things.
 */
static bool yaml_plain_word(const char *s)
{
	static const char *const special[] = {
		"y", "yes", "n", "no", "true", "false", "on", "off", "null",
	};
	bool letter = false;
	size_t i;

	for (i = 0; s[i]; i++)
		letter |= (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z');
	if (!letter)
		return false;
	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcasecmp(s, special[i]) == 0)
			return false;
	return true;
}

void hva_seed_meta_data(const struct hva_instance_spec *in, struct strbuf *out)
{
	size_t i;

	strbuf_addf(out, "instance-id: %s\n", in->domain);
	/* A host name holds only letters, digits, '-' and '.': quoting is all it may need. */
	if (yaml_plain_word(in->hostname))
		strbuf_addf(out, "local-hostname: %s\n", in->hostname);
	else
		strbuf_addf(out, "local-hostname: \"%s\"\n", in->hostname);
	if (!in->n_ssh_keys)
		return;
	strbuf_addstr(out, "public-keys:\n");
	for (i = 0; i < in->n_ssh_keys; i++) {
		strbuf_addstr(out, "  - ");
		yaml_scalar(out, in->ssh_keys[i]);
		strbuf_addch(out, '\n');
	}
}

/*
 * The network-config: version 2, one ethernet per nic matched by MAC. A
 * nic on a virtual network carries its address, the MTU, the DNS servers
 * and (the first such nic only) the default route, the same that the
 * network's DHCP server hands out; dhcp4 follows the network's dhcp. A
 * nic without a network asks qemu's user-mode network by DHCP.
 */
void hva_seed_network_config(const struct hva_instance_spec *in, struct strbuf *out)
{
	bool routed = false;
	size_t i, k;

	if (!in->n_nics)
		return;
	strbuf_addstr(out, "version: 2\nethernets:\n");
	for (i = 0; i < in->n_nics; i++) {
		const struct hva_nic_spec *nic = &in->nics[i];
		const struct hva_network_spec *net = nic->net;
		char text[VDC_IPV4_TEXT];

		strbuf_addf(out, "  %s:\n"
				 "    match:\n"
				 "      macaddress: \"%s\"\n"
				 "    set-name: %s\n"
				 "    dhcp4: %s\n",
			    nic->name, nic->mac, nic->name, !net || net->dhcp ? "true" : "false");
		if (!net)
			continue;
		if (nic->ip) {
			vdc_ipv4_format(nic->ip, text);
			strbuf_addf(out, "    addresses:\n      - %s/%u\n", text, net->prefix);
		}
		if (nic->ip && !routed) {
			vdc_ipv4_format(net->gateway, text);
			strbuf_addf(out, "    routes:\n      - to: 0.0.0.0/0\n        via: %s\n", text);
			routed = true;
		}
		if (net->n_dns) {
			strbuf_addstr(out, "    nameservers:\n      addresses:\n");
			for (k = 0; k < net->n_dns; k++) {
				vdc_ipv4_format(net->dns[k], text);
				strbuf_addf(out, "        - %s\n", text);
			}
		}
		if (net->mtu)
			strbuf_addf(out, "    mtu: %u\n", net->mtu);
	}
}

/*
 * Write a seed text for mcopy to read. No fsync: the kept texts only save
 * work, and a lost one makes the next start build the seed again.
 */
static int write_text(const char *path, const struct strbuf *text, struct vdc_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = text->buf;
	size_t left = text->len;

	if (fd < 0)
		return vdc_err_set(err, -errno, "cannot create %s: %s", path, strerror(errno));
	while (left) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return vdc_err_set(err, -e, "cannot write %s: %s", path, strerror(e));
		}
		p += n;
		left -= (size_t)n;
	}
	close(fd);
	return 0;
}

/* Whether the file `path` holds exactly `want`. */
static bool same_content(const char *path, const struct strbuf *want)
{
	struct strbuf have = STRBUF_INIT;
	bool same;

	if (vdc_file_read(path, want->len + 1, &have, NULL) < 0) {
		strbuf_release(&have);
		return false;
	}
	same = have.len == want->len && memcmp(have.buf, want->buf, want->len) == 0;
	strbuf_release(&have);
	return same;
}

int hva_seed_build(const char *dir, const struct hva_instance_spec *in, struct vdc_err *err)
{
	static const char *const names[] = { "meta-data", "user-data", "network-config" };
	static const char *const mtools_env[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "MTOOLS_SKIP_CHECK=1", NULL,
	};
	struct strbuf text[3] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	char seed[PATH_MAX], tmp[PATH_MAX], kept[PATH_MAX], fresh[PATH_MAX];
	char paths[3][PATH_MAX], kib[32];
	const char *argv[10];
	struct stat st;
	size_t i, n = 0;
	bool same = true;
	int rc = 0;

	hva_seed_meta_data(in, &text[0]);
	strbuf_add(&text[1], in->user_data, in->user_data_len);
	hva_seed_network_config(in, &text[2]);
	vdc_path(seed, "%s/seed.img", dir);
	vdc_path(tmp, "%s/seed.img.tmp", dir);
	vdc_path(kept, "%s/seed", dir);
	vdc_path(fresh, "%s/seed.tmp", dir);

	if (stat(seed, &st) < 0)
		same = false;
	for (i = 0; i < 3 && same; i++) {
		vdc_path(paths[i], "%s/%s", kept, names[i]);
		if (i == 2 && !text[2].len)
			same = access(paths[i], F_OK) < 0;
		else
			same = same_content(paths[i], &text[i]);
	}
	if (same)
		goto out;

	if ((rc = vdc_remove_tree(fresh, err)) < 0 || (rc = vdc_mkdirs(fresh, 0700, err)) < 0)
		goto out;
	for (i = 0; i < 3; i++) {
		if (i == 2 && !text[2].len)
			continue;
		vdc_path(paths[n], "%s/%s", fresh, names[i]);
		rc = write_text(paths[n], &text[i], err);
		if (rc < 0)
			goto out;
		n++;
	}
	/* 1 MiB, and 1 MiB more for each MiB of user-data (as make-seed.sh). */
	snprintf(kib, sizeof(kib), "%zu", (in->user_data_len / 1024 + 1024 + 1023) / 1024 * 1024);
	unlink(tmp);
	argv[0] = "mkfs.vfat";
	argv[1] = "-C";
	argv[2] = "-n";
	argv[3] = "CIDATA";
	argv[4] = tmp;
	argv[5] = kib;
	argv[6] = NULL;
	rc = vdc_spawn(argv, NULL, SPAWN_TIMEOUT_S, err);
	if (rc < 0)
		goto out;
	argv[0] = "mcopy";
	argv[1] = "-i";
	argv[2] = tmp;
	for (i = 0; i < n; i++)
		argv[3 + i] = paths[i];
	argv[3 + n] = "::/";
	argv[4 + n] = NULL;
	rc = vdc_spawn(argv, mtools_env, SPAWN_TIMEOUT_S, err);
	if (rc < 0)
		goto out;
	if ((rc = vdc_file_sync(tmp, err)) < 0)
		goto out;
	if (chmod(tmp, 0600) < 0 || rename(tmp, seed) < 0) {
		rc = vdc_err_set(err, -errno, "cannot put the seed in place at %s: %s", seed, strerror(errno));
		goto out;
	}
	/* The texts the image now holds, for the next comparison. */
	if ((rc = vdc_remove_tree(kept, err)) < 0)
		goto out;
	if (rename(fresh, kept) < 0)
		rc = vdc_err_set(err, -errno, "cannot rename %s: %s", fresh, strerror(errno));
	else
		rc = vdc_dir_sync(dir, err);
out:
	if (rc < 0)
		unlink(tmp);
	for (i = 0; i < 3; i++)
		strbuf_release(&text[i]);
	return rc;
}
