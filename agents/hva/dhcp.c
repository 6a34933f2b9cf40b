#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dhcp.h"
#include "file.h"
#include "log.h"
#include "netdev.h"
#include "process.h"

#define LEASE "1h"
#define START_TIMEOUT_S 10
#define STOP_WAIT_MS 2000

static void net_dir(const char *statedir, uint32_t vni, char out[PATH_MAX])
{
	vdc_path(out, "%s/networks/%" PRIu32, statedir, vni);
}

char **hva_dhcp_argv(const struct hva_dhcp_want *w, const char *dir)
{
	char net[VDC_IPV4_TEXT], mask[VDC_IPV4_TEXT], bridge[IFNAMSIZ];
	char **argv = xcalloc(24, sizeof(*argv));
	struct strbuf s = STRBUF_INIT;
	size_t n = 0;

	vdc_ipv4_format(w->net->net, net);
	vdc_ipv4_format(~0u << (32 - w->net->prefix), mask);
	hva_net_bridge_name(w->net->vni, bridge);
#define ARG(...) do { strbuf_addf(&s, __VA_ARGS__); argv[n++] = strbuf_detach(&s, NULL); } while (0)
	ARG("dnsmasq");
	ARG("--conf-file=/dev/null");
	ARG("--pid-file=%s/dnsmasq.pid", dir);
	ARG("--log-facility=%s/dnsmasq.log", dir);
	ARG("--log-dhcp");
	ARG("--interface=%s", bridge);
	ARG("--bind-interfaces");
	ARG("--except-interface=lo");
	/* DHCP only: no DNS service, no files of the host's. */
	ARG("--port=0");
	ARG("--no-resolv");
	ARG("--no-hosts");
	/* static: only the hosts of dhcp-hostsfile get an address. */
	ARG("--dhcp-range=%s,static,%s," LEASE, net, mask);
	ARG("--dhcp-hostsfile=%s/hosts", dir);
	ARG("--dhcp-optsfile=%s/opts", dir);
	ARG("--dhcp-authoritative");
	ARG("--leasefile-ro");
#undef ARG
	return argv;
}

void hva_dhcp_argv_free(char **argv)
{
	size_t i;

	for (i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

void hva_dhcp_hosts_text(const struct hva_dhcp_want *w, struct strbuf *out)
{
	char ip[VDC_IPV4_TEXT];
	size_t i;

	for (i = 0; i < w->n_hosts; i++) {
		vdc_ipv4_format(w->hosts[i].ip, ip);
		strbuf_addf(out, "%s,%s,%s\n", w->hosts[i].mac, ip, w->hosts[i].name);
	}
}

void hva_dhcp_opts_text(const struct hva_dhcp_want *w, struct strbuf *out)
{
	char a[VDC_IPV4_TEXT];
	size_t i;

	vdc_ipv4_format(w->net->gateway, a);
	strbuf_addf(out, "option:router,%s\n", a);
	if (w->net->n_dns) {
		strbuf_addstr(out, "option:dns-server");
		for (i = 0; i < w->net->n_dns; i++) {
			vdc_ipv4_format(w->net->dns[i], a);
			strbuf_addf(out, ",%s", a);
		}
		strbuf_addch(out, '\n');
	}
	if (w->net->mtu)
		strbuf_addf(out, "option:mtu,%u\n", w->net->mtu);
}

bool hva_dhcp_rebinds(const char *old, size_t len, const struct hva_dhcp_want *w)
{
	size_t i = 0, k;

	while (i < len) {
		const char *line = old + i, *nl = memchr(line, '\n', len - i), *c1, *c2;
		size_t ll = nl ? (size_t)(nl - line) : len - i;
		uint32_t ip;

		i += ll + 1;
		/* MAC,ADDRESS,NAME as hva_dhcp_hosts_text writes it; anything else is no binding. */
		c1 = memchr(line, ',', ll);
		if (!c1 || c1 - line != 17)
			continue;
		c2 = memchr(c1 + 1, ',', ll - 18);
		if (!c2 || vdc_ipv4_parse(c1 + 1, (size_t)(c2 - c1 - 1), &ip, NULL) < 0)
			continue;
		for (k = 0; k < w->n_hosts; k++)
			if (w->hosts[k].ip == ip && strncmp(w->hosts[k].mac, line, 17))
				return true;
	}
	return false;
}

/* The pid in `dir`/dnsmasq.pid, or 0. */
static pid_t pid_read(const char *dir)
{
	struct strbuf text = STRBUF_INIT;
	char path[PATH_MAX];
	long v = 0;

	vdc_path(path, "%s/dnsmasq.pid", dir);
	if (vdc_file_read(path, 32, &text, NULL) == 0)
		v = strtol(text.buf, NULL, 10);
	strbuf_release(&text);
	return v > 1 && v <= INT_MAX ? (pid_t)v : 0;
}

/* The argv of process `pid` as /proc shows it (NUL-separated), into `out`. */
static int cmdline_read(pid_t pid, struct strbuf *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	return vdc_file_read(path, 64 * 1024, out, NULL);
}

/* Is `pid` the dnsmasq of folder `dir` (it names its pid file)? */
static bool is_ours(pid_t pid, const char *dir, struct strbuf *cmdline)
{
	char want[PATH_MAX + 16];
	size_t i = 0;

	if (!pid || cmdline_read(pid, cmdline) < 0)
		return false;
	snprintf(want, sizeof(want), "--pid-file=%s/dnsmasq.pid", dir);
	while (i < cmdline->len) {
		if (!strcmp(cmdline->buf + i, want))
			return true;
		i += strlen(cmdline->buf + i) + 1;
	}
	return false;
}

static bool same_argv(const struct strbuf *cmdline, char **argv)
{
	size_t i = 0, k;

	for (k = 0; argv[k]; k++) {
		if (i >= cmdline->len || strcmp(cmdline->buf + i, argv[k]))
			return false;
		i += strlen(cmdline->buf + i) + 1;
	}
	return i == cmdline->len;
}

/* End dnsmasq `pid`: SIGTERM, then SIGKILL if it is still there after a while. */
static void stop(pid_t pid)
{
	struct timespec nap = { 0, 20 * 1000000 };
	int waited;

	if (kill(pid, SIGTERM) < 0)
		return;
	for (waited = 0; waited < STOP_WAIT_MS; waited += 20) {
		if (kill(pid, 0) < 0)
			return;
		nanosleep(&nap, NULL);
	}
	kill(pid, SIGKILL);
}

/* Write `path` with `text` unless it holds it already; true when it changed. */
static bool write_if_changed(const char *path, const struct strbuf *text, struct vdc_err *err, int *rc)
{
	struct strbuf old = STRBUF_INIT;
	bool same = vdc_file_read(path, 16 << 20, &old, NULL) == 0 && old.len == text->len &&
		    !memcmp(old.buf, text->buf, text->len);

	strbuf_release(&old);
	if (same)
		return false;
	/* 0644: dnsmasq reads it again on SIGHUP, after it has become nobody. */
	*rc = vdc_file_write_atomic(path, text->buf, text->len, 0644, err);
	return *rc == 0;
}

int hva_dhcp_sync(const char *statedir, const struct hva_dhcp_want *w, struct vdc_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct strbuf hosts = STRBUF_INIT, opts = STRBUF_INIT, cmdline = STRBUF_INIT;
	struct strbuf old = STRBUF_INIT;
	char **argv = NULL;
	bool changed, rebinds;
	pid_t pid;
	int rc = 0;

	net_dir(statedir, w->net->vni, dir);
	rc = vdc_mkdirs(dir, 0711, err);
	if (rc < 0)
		goto out;
	hva_dhcp_hosts_text(w, &hosts);
	hva_dhcp_opts_text(w, &opts);
	vdc_path(path, "%s/hosts", dir);
	rebinds = vdc_file_read(path, 16 << 20, &old, NULL) == 0 && hva_dhcp_rebinds(old.buf, old.len, w);
	changed = write_if_changed(path, &hosts, err, &rc);
	if (rc < 0)
		goto out;
	vdc_path(path, "%s/opts", dir);
	changed |= write_if_changed(path, &opts, err, &rc);
	if (rc < 0)
		goto out;
	argv = hva_dhcp_argv(w, dir);
	pid = pid_read(dir);
	if (is_ours(pid, dir, &cmdline)) {
		if (same_argv(&cmdline, argv) && !rebinds) {
			if (changed && kill(pid, SIGHUP) == 0)
				log_debug("network %s: the DHCP server reads its hosts again", w->net->name);
			goto out;
		}
		log_info("network %s: restarting its DHCP server with %s", w->net->name,
			 rebinds ? "an address that has a new MAC (its leases are forgotten)" : "new settings");
		stop(pid);
	}
	rc = vdc_spawn((const char *const *)argv, NULL, START_TIMEOUT_S, err);
	if (rc < 0)
		vdc_err_wrap(err, rc, "cannot start the DHCP server of network %s", w->net->name);
	else
		log_info("network %s: DHCP server started (%s)", w->net->name, dir);
out:
	hva_dhcp_argv_free(argv);
	strbuf_release(&old);
	strbuf_release(&hosts);
	strbuf_release(&opts);
	strbuf_release(&cmdline);
	return rc;
}

void hva_dhcp_prune(const char *statedir, const uint32_t *keep, size_t n_keep)
{
	char top[PATH_MAX], dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	vdc_path(top, "%s/networks", statedir);
	d = opendir(top);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		struct strbuf cmdline = STRBUF_INIT;
		struct vdc_err err = VDC_ERR_INIT;
		char *end;
		unsigned long vni = strtoul(de->d_name, &end, 10);
		size_t i;
		bool kept = false;
		pid_t pid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || *end || vni > HVA_VNI_MAX)
			continue;
		for (i = 0; i < n_keep && !kept; i++)
			kept = keep[i] == vni;
		if (kept)
			continue;
		vdc_path(dir, "%s/%s", top, de->d_name);
		pid = pid_read(dir);
		if (is_ours(pid, dir, &cmdline)) {
			log_info("stopping the DHCP server of network %lu: no longer wanted here", vni);
			stop(pid);
		}
		strbuf_release(&cmdline);
		if (vdc_remove_tree(dir, &err) < 0)
			log_warn("%s", err.msg);
	}
	closedir(d);
}
