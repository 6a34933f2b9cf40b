#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "desired.h"
#include "firewall.h"
#include "json_member.h"
#include "log.h"
#include "strbuf.h"
#include "wire_doc.h"

/* The instances past HVA_HOST_NICS_MAX are refused here, so the firewall never has more nics than slots. */
_Static_assert(HVA_HOST_NICS_MAX <= HVA_FW_SLOTS_MAX, "every nic on a network takes a slot of the firewall");

int hva_mac_parse(const char *s, char out[18], struct vdc_err *err)
{
	size_t i;

	if (strlen(s) != 17)
		goto bad;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				goto bad;
		} else if (!isxdigit((unsigned char)s[i])) {
			goto bad;
		}
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[17] = '\0';
	/* The low bit of the first octet marks a multicast address. */
	if (strtoul((char[3]){ out[0], out[1], 0 }, NULL, 16) & 1)
		return vdc_err_set(err, -EINVAL, "the MAC address %s is a multicast address", out);
	return 0;
bad:
	return vdc_err_set(err, -EINVAL, "'%s' is not a MAC address like 52:54:00:00:00:0c", VDC_Q(s));
}

/*
 * The IPv4 address member `key` of `o` (host order) into `*out`. Absent or
 * null leaves 0, unless `required`.
 */
static int get_ipv4(json_t *o, const char *key, bool required, uint32_t *out, struct vdc_err *err)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (!v || json_is_null(v)) {
		if (required)
			return vdc_err_set(err, -EINVAL, "\"%s\" is missing", key);
		return 0;
	}
	if (!json_is_string(v) || vdc_ipv4_parse(json_string_value(v), json_string_length(v), out, NULL) < 0)
		return vdc_err_set(err, -EINVAL, "\"%s\" is not an IPv4 address", key);
	return 0;
}

/* A list of at most `max` IPv4 addresses, member `key` of `o` (absent: none). */
static int get_ipv4_list(json_t *o, const char *key, size_t max, uint32_t **out, size_t *n,
			 struct vdc_err *err)
{
	json_t *list = json_object_get(o, key), *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list) || json_array_size(list) > max)
		return vdc_err_set(err, -EINVAL, "\"%s\" is not a list of at most %zu addresses", key, max);
	*out = xcalloc(json_array_size(list) ? json_array_size(list) : 1, sizeof(**out));
	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || vdc_ipv4_parse(json_string_value(v), json_string_length(v), &(*out)[i],
							 NULL) < 0)
			return vdc_err_set(err, -EINVAL, "\"%s\" item %zu is not an IPv4 address", key, i + 1);
		*n = i + 1;
	}
	return 0;
}

static int parse_nics(json_t *nics, struct hva_instance_spec *in, struct vdc_err *err)
{
	size_t i, j;
	json_t *n;

	if (!nics || json_is_null(nics))
		return 0;
	if (!json_is_array(nics))
		return vdc_err_set(err, -EINVAL, "\"nics\" is not a list");
	if (json_array_size(nics) > HVA_NICS_MAX)
		return vdc_err_set(err, -EINVAL, "%zu interfaces; at most %d are supported",
				   json_array_size(nics), HVA_NICS_MAX);
	in->nics = xcalloc(json_array_size(nics), sizeof(*in->nics));
	json_array_foreach(nics, i, n) {
		struct hva_nic_spec *nic = &in->nics[i];
		const char *mac;
		int rc;

		if (!json_is_object(n))
			return vdc_err_set(err, -EINVAL, "interface %zu is not an object", i);
		in->n_nics = i + 1;
		rc = vdc_json_name(n, VDC_WIRE_NAME, VDC_JSON_REQUIRED, nic->name, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "interface %zu", i);
		rc = vdc_json_name(n, VDC_WIRE_NETWORK, VDC_JSON_NULLABLE, nic->network, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "interface %s", nic->name);
		mac = vdc_json_str(n, VDC_WIRE_MAC, NULL);
		if (!mac)
			return vdc_err_set(err, -EINVAL, "interface %s has no \"mac\"", nic->name);
		rc = hva_mac_parse(mac, nic->mac, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "interface %s", nic->name);
		rc = vdc_json_uint(n, VDC_WIRE_ID, 1, HVA_NIC_ID_MAX, &nic->id, err);
		if (rc == -ENOENT && nic->network[0])
			return vdc_err_set(err, -EINVAL, "interface %s is on a network but has no \"id\"", nic->name);
		if (rc < 0 && rc != -ENOENT)
			return vdc_err_wrap(err, rc, "interface %s", nic->name);
		rc = get_ipv4(n, VDC_WIRE_IP, false, &nic->ip, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "interface %s", nic->name);
		for (j = 0; j < i; j++)
			if (strcmp(in->nics[j].name, nic->name) == 0 || strcmp(in->nics[j].mac, nic->mac) == 0 ||
			    (nic->id && in->nics[j].id == nic->id))
				return vdc_err_set(err, -EINVAL, "interface %s repeats the name, MAC or id of interface %s",
						   nic->name, in->nics[j].name);
	}
	return 0;
}

static int parse_keys(json_t *keys, struct hva_instance_spec *in, struct vdc_err *err)
{
	size_t i;
	json_t *k;

	if (!keys || json_is_null(keys))
		return 0;
	if (!json_is_array(keys))
		return vdc_err_set(err, -EINVAL, "\"ssh_keys\" is not a list");
	if (json_array_size(keys) > HVA_SSH_KEYS_MAX)
		return vdc_err_set(err, -EINVAL, "%zu ssh keys; at most %d are supported",
				   json_array_size(keys), HVA_SSH_KEYS_MAX);
	in->ssh_keys = xcalloc(json_array_size(keys), sizeof(char *));
	json_array_foreach(keys, i, k) {
		struct vdc_err why = VDC_ERR_INIT;
		size_t len;

		if (!json_is_string(k))
			return vdc_err_set(err, -EINVAL, "ssh key %zu is not a string", i + 1);
		len = json_string_length(k);
		if (len == 0 || len > HVA_SSH_KEY_MAX)
			return vdc_err_set(err, -EINVAL, "ssh key %zu is empty or longer than %d bytes",
					   i + 1, HVA_SSH_KEY_MAX);
		/* One line of printable text: it becomes one YAML list item. */
		if (vdc_text_check(json_string_value(k), len, false, &why) < 0)
			return vdc_err_set(err, -EINVAL, "ssh key %zu: %s", i + 1, why.msg);
		in->ssh_keys[i] = xstrndup(json_string_value(k), len);
		in->n_ssh_keys = i + 1;
	}
	return 0;
}

int hva_iqn_check(const char *s, size_t len, struct vdc_err *err)
{
	size_t i;

	if (len < 5 || len > HVA_IQN_MAX || strncmp(s, "iqn.", 4) != 0)
		return vdc_err_set(err, -EINVAL, "an iSCSI name starts with \"iqn.\" and has at most %d characters",
				   HVA_IQN_MAX);
	for (i = 0; i < len; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && !strchr(".:-", s[i]))
			return vdc_err_set(err, -EINVAL, "an iSCSI name takes a-z, 0-9, '.', ':' and '-'");
	return 0;
}

/* "ADDR:PORT" with ADDR an IPv4 address, a host name or [IPv6]. */
static int parse_portal(const char *s, size_t len, struct hva_volume_spec *v, struct vdc_err *err)
{
	const char *colon = memrchr(s, ':', len), *host = s;
	size_t hlen = colon ? (size_t)(colon - s) : 0;
	unsigned char addr6[16];
	uint64_t port;
	char buf[HVA_PORTAL_HOST_MAX + 1];

	if (!colon || hlen == 0 || vdc_uint_parse(colon + 1, len - hlen - 1, "the portal's port", 1, 65535,
						  &port, NULL) < 0)
		goto bad;
	if (host[0] == '[') {
		if (hlen < 3 || host[hlen - 1] != ']' || hlen - 2 >= sizeof(buf))
			goto bad;
		memcpy(buf, host + 1, hlen - 2);
		buf[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, buf, addr6) != 1)
			goto bad;
	} else {
		uint32_t addr4;

		/* A host name's last label has a letter, so an IPv4 address is its own case. */
		if (hlen >= sizeof(buf) ||
		    (vdc_ipv4_parse(host, hlen, &addr4, NULL) < 0 && vdc_hostname_check(host, hlen, NULL) < 0))
			goto bad;
		memcpy(buf, host, hlen);
		buf[hlen] = '\0';
	}
	memcpy(v->host, buf, strlen(buf) + 1);
	v->port = (unsigned)port;
	return 0;
bad:
	return vdc_err_set(err, -EINVAL, "\"portal\" is not ADDR:PORT (an address or host name, a port 1-65535)");
}

/* Copy string member `key` of `o` into `out` when it is 1..max characters of `chars` (or hex when NULL). */
static int get_token(json_t *o, const char *key, const char *chars, size_t max, char *out,
		     struct vdc_err *err)
{
	size_t len, i;
	const char *s = vdc_json_str(o, key, &len);

	if (!s || len == 0 || len > max)
		return vdc_err_set(err, -EINVAL, "\"%s\" is missing or not 1-%zu characters", key, max);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = chars ? isalnum(c) || (c && strchr(chars, c)) : isxdigit(c);

		if (!ok)
			return vdc_err_set(err, -EINVAL, "\"%s\" holds a character it may not hold", key);
	}
	memcpy(out, s, len + 1);
	return 0;
}

/* Where a LUN is and how to log in, of a volume or a root disk: portal, iqn, lun, CHAP, serial, size. */
static int parse_endpoint(json_t *o, struct hva_volume_spec *v, struct vdc_err *err)
{
	const char *s;
	size_t len;
	uint64_t lun;
	int rc;

	s = vdc_json_str(o, VDC_WIRE_PORTAL, &len);
	if (!s)
		return vdc_err_set(err, -EINVAL, "\"portal\" is missing");
	if ((rc = parse_portal(s, len, v, err)) < 0)
		return rc;
	s = vdc_json_str(o, VDC_WIRE_IQN, &len);
	if (!s)
		return vdc_err_set(err, -EINVAL, "\"iqn\" is missing");
	if ((rc = hva_iqn_check(s, len, err)) < 0)
		return vdc_err_wrap(err, rc, "\"iqn\"");
	memcpy(v->iqn, s, len + 1);
	rc = vdc_json_uint(o, VDC_WIRE_LUN, 0, HVA_LUN_MAX, &lun, err);
	if (rc == -ENOENT)
		return vdc_err_set(err, -EINVAL, "\"lun\" is missing");
	if (rc < 0)
		return rc;
	v->lun = (unsigned)lun;
	if ((rc = get_token(o, VDC_WIRE_CHAP_USER, "._:-", HVA_CHAP_USER_MAX, v->chap_user, err)) < 0 ||
	    (rc = get_token(o, VDC_WIRE_CHAP_SECRET, NULL, HVA_CHAP_SECRET_MAX, v->chap_secret, err)) < 0 ||
	    (rc = get_token(o, VDC_WIRE_SERIAL, "-", HVA_SERIAL_MAX, v->serial, err)) < 0)
		return rc;
	rc = vdc_json_uint(o, VDC_WIRE_SIZE, 1, UINT64_MAX >> 1, &v->size, err);
	if (rc == -ENOENT)
		return vdc_err_set(err, -EINVAL, "\"size\" is missing");
	if (rc < 0)
		return rc;
	return 0;
}

/* The fields of one volume entry but its id. */
static int parse_volume_body(json_t *o, struct hva_volume_spec *v, struct vdc_err *err)
{
	int rc;

	if ((rc = vdc_json_name(o, VDC_WIRE_NAME, VDC_JSON_REQUIRED, v->name, err)) < 0 ||
	    (rc = vdc_json_name(o, VDC_WIRE_LINK, VDC_JSON_REQUIRED, v->link, err)) < 0)
		return rc;
	return parse_endpoint(o, v, err);
}

static int cmp_volume(const void *a, const void *b)
{
	const struct hva_volume_spec *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int parse_volume(json_t *o, size_t i, struct hva_volume_spec *v, struct vdc_err *err)
{
	char serial[HVA_SERIAL_MAX + 1];
	int rc;

	if (!json_is_object(o))
		return vdc_err_set(err, -EINVAL, "volume %zu is not an object", i + 1);
	rc = vdc_json_uint(o, VDC_WIRE_ID, 1, UINT64_MAX >> 1, &v->id, err);
	if (rc == -ENOENT)
		return vdc_err_set(err, -EINVAL, "volume %zu has no \"id\"", i + 1);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "volume %zu", i + 1);
	rc = parse_volume_body(o, v, err);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "volume %" PRIu64, v->id);
	/* The serial is how a disk read back from a domain is told to be this volume. */
	snprintf(serial, sizeof(serial), "vdc-vol-%" PRIu64, v->id);
	if (strcmp(serial, v->serial) != 0)
		return vdc_err_set(err, -EINVAL, "volume %" PRIu64 " has serial '%s'; it must be %s",
				   v->id, v->serial, serial);
	return 0;
}

static int parse_volumes(json_t *list, struct hva_instance_spec *in, struct vdc_err *err)
{
	size_t i;
	json_t *o;
	int rc;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return vdc_err_set(err, -EINVAL, "\"volumes\" is not a list");
	if (json_array_size(list) > HVA_VOLUMES_MAX)
		return vdc_err_set(err, -EINVAL, "%zu volumes; at most %d are supported",
				   json_array_size(list), HVA_VOLUMES_MAX);
	in->volumes = xcalloc(json_array_size(list), sizeof(*in->volumes));
	json_array_foreach(list, i, o) {
		rc = parse_volume(o, i, &in->volumes[i], err);
		if (rc < 0)
			return rc;
		in->n_volumes = i + 1;
		if (hva_volume_find(in, in->volumes[i].id) != &in->volumes[i])
			return vdc_err_set(err, -EINVAL, "volume %" PRIu64 " is named twice", in->volumes[i].id);
	}
	qsort(in->volumes, in->n_volumes, sizeof(*in->volumes), cmp_volume);
	return 0;
}

const struct hva_volume_spec *hva_volume_find(const struct hva_instance_spec *in, uint64_t id)
{
	size_t i;

	for (i = 0; i < in->n_volumes; i++)
		if (in->volumes[i].id == id)
			return &in->volumes[i];
	return NULL;
}

/* The members of "disk" but its id, into `disk` of instance `in` (whose name it takes). */
static int parse_disk_body(json_t *o, const struct hva_instance_spec *in, struct hva_disk_spec *disk,
			   struct vdc_err *err)
{
	struct hva_volume_spec *v = &disk->vol;
	char serial[HVA_SERIAL_MAX + 1];
	json_t *ready;
	int rc;

	snprintf(v->name, sizeof(v->name), "%s", in->name);
	rc = parse_endpoint(o, v, err);
	if (rc < 0)
		return rc;
	if (strlen(v->chap_secret) != HVA_DISK_SECRET_LEN)
		return vdc_err_set(err, -EINVAL, "\"chap_secret\" is not %d hexadecimal digits", HVA_DISK_SECRET_LEN);
	/* As a volume's, the serial is how the disk is told apart when read back from a domain. */
	snprintf(serial, sizeof(serial), "vdc-disk-%" PRIu64, v->id);
	if (strcmp(serial, v->serial) != 0)
		return vdc_err_set(err, -EINVAL, "serial '%s'; it must be %s", v->serial, serial);
	ready = json_object_get(o, VDC_WIRE_READY);
	if (!json_is_boolean(ready))
		return vdc_err_set(err, -EINVAL, "\"ready\" is not true or false");
	disk->ready = json_is_true(ready);
	return 0;
}

/* "disk": the root disk on a storage host; absent or null: none (a local overlay of the image). */
static int parse_disk(json_t *o, struct hva_instance_spec *in, struct vdc_err *err)
{
	struct hva_disk_spec *disk = &in->disk;
	int rc;

	memset(disk, 0, sizeof(*disk));
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return vdc_err_set(err, -EINVAL, "\"disk\" is neither an object nor null");
	rc = vdc_json_uint(o, VDC_WIRE_ID, 1, UINT64_MAX >> 1, &disk->vol.id, err);
	if (rc == -ENOENT)
		return vdc_err_set(err, -EINVAL, "\"disk\" has no \"id\"");
	if (rc < 0)
		return vdc_err_wrap(err, rc, "disk");
	disk->vol.root = true;
	rc = parse_disk_body(o, in, disk, err);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "disk %" PRIu64, disk->vol.id);
	disk->present = true;
	return 0;
}

int hva_mig_uri_check(const char *s, size_t len, struct vdc_err *err)
{
	static const char scheme[] = "qemu+tls://", path[] = "/system";
	const char *host, *end, *colon;
	size_t hlen;
	uint32_t addr;
	uint64_t port;

	if (len > HVA_MIG_URI_MAX || len < sizeof(scheme) + sizeof(path) - 1 ||
	    strncmp(s, scheme, sizeof(scheme) - 1) != 0 || memchr(s, '\0', len))
		goto bad;
	host = s + sizeof(scheme) - 1;
	end = memchr(host, '/', len - (size_t)(host - s));
	if (!end || (size_t)(s + len - end) != sizeof(path) - 1 || memcmp(end, path, sizeof(path) - 1) != 0)
		goto bad;
	colon = memchr(host, ':', (size_t)(end - host));
	hlen = (size_t)((colon ? colon : end) - host);
	if (colon && vdc_uint_parse(colon + 1, (size_t)(end - colon - 1), "the port", 1, 65535, &port, NULL) < 0)
		goto bad;
	/* A host name's last label has a letter, so an IPv4 address is its own case. */
	if (hlen == 0 || (vdc_ipv4_parse(host, hlen, &addr, NULL) < 0 && vdc_hostname_check(host, hlen, NULL) < 0))
		goto bad;
	return 0;
bad:
	return vdc_err_set(err, -EINVAL, "\"uri\" is not qemu+tls://HOST[:PORT]/system of at most %d characters",
			   HVA_MIG_URI_MAX);
}

/* "migrate": a live migration of the instance to another host; absent or null: none. */
static int parse_migrate(json_t *o, struct hva_instance_spec *in, struct vdc_err *err)
{
	struct hva_migrate_spec *m = &in->migrate;
	const char *uri;
	json_t *iqn;
	size_t len;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return vdc_err_set(err, -EINVAL, "\"migrate\" is neither an object nor null");
	rc = vdc_json_uint(o, VDC_WIRE_SEQ, 1, UINT64_MAX >> 1, &m->seq, err);
	if (rc == -ENOENT)
		return vdc_err_set(err, -EINVAL, "\"migrate\" has no \"seq\"");
	if (rc < 0)
		return vdc_err_wrap(err, rc, "migrate");
	if ((rc = vdc_json_name(o, VDC_WIRE_MIGRATE_TO, VDC_JSON_REQUIRED, m->to, err)) < 0)
		return vdc_err_wrap(err, rc, "migrate");
	uri = vdc_json_str(o, VDC_WIRE_MIGRATE_URI, &len);
	if (!uri)
		return vdc_err_set(err, -EINVAL, "\"migrate\" has no \"uri\"");
	if ((rc = hva_mig_uri_check(uri, len, err)) < 0)
		return vdc_err_wrap(err, rc, "migrate");
	memcpy(m->uri, uri, len + 1);
	if ((rc = get_ipv4(o, VDC_WIRE_MIGRATE_ADDRESS, true, &m->address, err)) < 0)
		return vdc_err_wrap(err, rc, "migrate");
	/* Optional: absent or null, the domain keeps this host's initiator there. */
	iqn = json_object_get(o, VDC_WIRE_MIGRATE_INITIATOR);
	if (iqn && !json_is_null(iqn)) {
		if (!json_is_string(iqn))
			return vdc_err_set(err, -EINVAL, "migrate: \"initiator\" is not a string");
		if ((rc = hva_iqn_check(json_string_value(iqn), json_string_length(iqn), err)) < 0)
			return vdc_err_wrap(err, rc, "migrate: \"initiator\"");
		memcpy(m->initiator, json_string_value(iqn), json_string_length(iqn) + 1);
	}
	m->present = true;
	return 0;
}

/* "incoming": a live migration of the instance to this host; absent or null: none. */
static int parse_incoming(json_t *o, struct hva_instance_spec *in, struct vdc_err *err)
{
	int rc;

	memset(&in->incoming, 0, sizeof(in->incoming));
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return vdc_err_set(err, -EINVAL, "\"incoming\" is neither an object nor null");
	if ((rc = get_ipv4(o, VDC_WIRE_INCOMING_FROM, true, &in->incoming.from, err)) < 0)
		return vdc_err_wrap(err, rc, "incoming");
	in->incoming.present = true;
	if (in->migrate.present)
		return vdc_err_set(err, -EINVAL, "\"migrate\" and \"incoming\" at once: an instance moves one way at a time");
	return 0;
}

static int parse_instance_groups(json_t *list, struct hva_instance_spec *in, struct vdc_err *err)
{
	json_t *g;
	size_t i;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list) || json_array_size(list) > HVA_GROUPS_MAX)
		return vdc_err_set(err, -EINVAL, "\"security_groups\" is not a list of at most %d names", HVA_GROUPS_MAX);
	in->groups = xcalloc(json_array_size(list) ? json_array_size(list) : 1, sizeof(*in->groups));
	json_array_foreach(list, i, g) {
		if (!json_is_string(g) || vdc_name_check(json_string_value(g), json_string_length(g), NULL) < 0)
			return vdc_err_set(err, -EINVAL, "security group %zu is not a name", i + 1);
		snprintf(in->groups[i], sizeof(in->groups[i]), "%s", json_string_value(g));
		in->n_groups = i + 1;
	}
	return 0;
}

/* Everything of an entry but its id and domain. */
static int parse_instance_body(json_t *o, struct hva_instance_spec *in, struct vdc_err *err)
{
	const char *power, *host, *ud;
	uint64_t v;
	size_t len;
	int rc;

	rc = vdc_json_name(o, VDC_WIRE_NAME, VDC_JSON_REQUIRED, in->name, err);
	if (rc < 0)
		return rc;
	power = vdc_json_str(o, VDC_WIRE_POWER, NULL);
	if (!power || (strcmp(power, VDC_WIRE_POWER_ON) != 0 && strcmp(power, VDC_WIRE_POWER_OFF) != 0))
		return vdc_err_set(err, -EINVAL, "\"power\" is neither \"on\" nor \"off\"");
	in->power_on = strcmp(power, VDC_WIRE_POWER_ON) == 0;
	rc = vdc_json_uint(o, VDC_WIRE_CPUS, 1, HVA_CPUS_MAX, &v, err);
	if (rc == -ENOENT)
		return vdc_err_set(err, -EINVAL, "\"cpus\" is missing");
	if (rc < 0)
		return rc;
	in->cpus = (unsigned)v;
	rc = vdc_json_uint(o, VDC_WIRE_MEMORY_MIB, HVA_MEMORY_MIB_MIN, HVA_MEMORY_MIB_MAX, &in->memory_mib, err);
	if (rc == -ENOENT)
		return vdc_err_set(err, -EINVAL, "\"memory_mib\" is missing");
	if (rc < 0)
		return rc;
	host = vdc_json_str(o, VDC_WIRE_HOSTNAME, &len);
	if (host && len) {
		struct vdc_err why = VDC_ERR_INIT;

		if (vdc_hostname_check(host, len, &why) < 0)
			return vdc_err_set(err, -EINVAL, "%s", why.msg);
		memcpy(in->hostname, host, len + 1);
	} else {
		snprintf(in->hostname, sizeof(in->hostname), "%s", in->name);
	}
	ud = vdc_json_str(o, VDC_WIRE_USER_DATA, &len);
	if (ud) {
		if (len > HVA_USER_DATA_MAX)
			return vdc_err_set(err, -EINVAL, "user-data is %zu bytes; at most %d are accepted",
					   len, HVA_USER_DATA_MAX);
		if (memchr(ud, '\0', len))
			return vdc_err_set(err, -EINVAL, "user-data holds a NUL byte");
		free(in->user_data);
		in->user_data = xstrndup(ud, len);
		in->user_data_len = len;
	}
	rc = parse_keys(json_object_get(o, VDC_WIRE_SSH_KEYS), in, err);
	if (rc < 0)
		return rc;
	rc = vdc_image_spec_parse(json_object_get(o, VDC_WIRE_IMAGE), &in->image, err);
	if (rc < 0)
		return rc;
	rc = parse_nics(json_object_get(o, VDC_WIRE_NICS), in, err);
	if (rc < 0)
		return rc;
	rc = parse_instance_groups(json_object_get(o, VDC_WIRE_SECURITY_GROUPS), in, err);
	if (rc < 0)
		return rc;
	rc = vdc_json_uint(o, VDC_WIRE_REBOOT, 0, UINT64_MAX >> 1, &in->reboot, err);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	rc = vdc_json_uint(o, VDC_WIRE_RESET, 0, UINT64_MAX >> 1, &in->reset, err);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	rc = parse_volumes(json_object_get(o, VDC_WIRE_VOLUMES), in, err);
	if (rc < 0)
		return rc;
	rc = parse_disk(json_object_get(o, VDC_WIRE_DISK), in, err);
	if (rc < 0)
		return rc;
	rc = parse_migrate(json_object_get(o, VDC_WIRE_MIGRATE), in, err);
	if (rc < 0)
		return rc;
	return parse_incoming(json_object_get(o, VDC_WIRE_INCOMING), in, err);
}

int hva_pem_check(const char *what, const char *s, size_t len, struct vdc_err *err)
{
	bool key = strcmp(what, VDC_WIRE_PKI_KEY) == 0;
	const char *begin = key ? "-----BEGIN PRIVATE KEY-----\n" : "-----BEGIN CERTIFICATE-----\n";
	size_t i;

	if (len == 0 || len > HVA_PEM_MAX)
		return vdc_err_set(err, -EINVAL, "\"%s\" is empty or longer than %d bytes", what, HVA_PEM_MAX);
	if (len < strlen(begin) || memcmp(s, begin, strlen(begin)) != 0)
		return vdc_err_set(err, -EINVAL, "\"%s\" does not start with %.*s", what, (int)strlen(begin) - 1, begin);
	for (i = 0; i < len; i++)
		if (s[i] != '\n' && (s[i] < 0x20 || s[i] > 0x7e))
			return vdc_err_set(err, -EINVAL, "\"%s\" holds a byte that is not printable ASCII or a newline", what);
	return 0;
}

/* The pki's three texts; a malformed one leaves `pki` not present, with the reason in its err. */
static void parse_pki(json_t *o, struct hva_pki_spec *pki)
{
	static const char *const names[] = { VDC_WIRE_PKI_CA, VDC_WIRE_PKI_CERT, VDC_WIRE_PKI_KEY };
	char **out[] = { &pki->ca, &pki->cert, &pki->key };
	struct vdc_err why = VDC_ERR_INIT;
	size_t i, len;

	if (!o || json_is_null(o))
		return;
	if (!json_is_object(o)) {
		snprintf(pki->err, sizeof(pki->err), "\"pki\" is neither an object nor null");
		return;
	}
	for (i = 0; i < 3; i++) {
		const char *s = vdc_json_str(o, names[i], &len);

		if (!s) {
			snprintf(pki->err, sizeof(pki->err), "\"pki\" has no \"%s\"", names[i]);
			goto bad;
		}
		if (hva_pem_check(names[i], s, len, &why) < 0) {
			snprintf(pki->err, sizeof(pki->err), "pki: %s", why.msg);
			goto bad;
		}
		*out[i] = xstrndup(s, len);
	}
	pki->present = true;
	return;
bad:
	for (i = 0; i < 3; i++) {
		free(*out[i]);
		*out[i] = NULL;
	}
}

/* This host's initiator IQN, when sent; a malformed one is kept out and said in `why`. */
static void parse_initiator(json_t *root, struct hva_desired *d, struct vdc_err *why)
{
	size_t len;
	const char *s = vdc_json_str(root, VDC_WIRE_INITIATOR, &len);

	if (!s) {
		vdc_err_set(why, -EINVAL, "the desired state names no initiator IQN for this host");
		return;
	}
	if (hva_iqn_check(s, len, why) < 0) {
		vdc_err_wrap(why, -EINVAL, "the initiator IQN of this host is malformed");
		return;
	}
	memcpy(d->initiator, s, len + 1);
}

static int parse_remote(json_t *list, struct hva_network_spec *n, struct vdc_err *err)
{
	json_t *r;
	size_t i;
	int rc;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list) || json_array_size(list) > HVA_REMOTE_MAX)
		return vdc_err_set(err, -EINVAL, "\"remote\" is not a list of at most %d nics", HVA_REMOTE_MAX);
	n->remote = xcalloc(json_array_size(list) ? json_array_size(list) : 1, sizeof(*n->remote));
	json_array_foreach(list, i, r) {
		struct hva_remote_nic *x = &n->remote[i];
		const char *mac = json_is_object(r) ? vdc_json_str(r, VDC_WIRE_MAC, NULL) : NULL;

		if (!mac)
			return vdc_err_set(err, -EINVAL, "remote nic %zu has no \"mac\"", i + 1);
		if ((rc = hva_mac_parse(mac, x->mac, err)) < 0 ||
		    (rc = get_ipv4(r, VDC_WIRE_IP, false, &x->ip, err)) < 0 ||
		    (rc = get_ipv4(r, VDC_WIRE_PEER, true, &x->peer, err)) < 0)
			return vdc_err_wrap(err, rc, "remote nic %zu", i + 1);
		n->n_remote = i + 1;
	}
	return 0;
}

/* One entry of "networks" but its name. */
static int parse_network_body(json_t *o, struct hva_network_spec *n, struct vdc_err *err)
{
	const char *cidr, *mac;
	json_t *dhcp;
	uint32_t *dns = NULL;
	uint64_t vni;
	size_t len, i;
	int rc;

	rc = vdc_json_uint(o, VDC_WIRE_VNI, 1, 16777215, &vni, err);
	if (rc == -ENOENT)
		return vdc_err_set(err, -EINVAL, "\"vni\" is missing");
	if (rc < 0)
		return rc;
	n->vni = (uint32_t)vni;
	cidr = vdc_json_str(o, VDC_WIRE_CIDR, &len);
	if (!cidr || vdc_cidr_parse(cidr, len, &n->net, &n->prefix, NULL) < 0 || n->prefix < 8 || n->prefix > 30)
		return vdc_err_set(err, -EINVAL, "\"cidr\" is not an IPv4 network of prefix /8 to /30");
	if ((rc = get_ipv4(o, VDC_WIRE_GATEWAY, true, &n->gateway, err)) < 0 ||
	    (rc = get_ipv4(o, VDC_WIRE_SERVER, true, &n->server, err)) < 0)
		return rc;
	if (!vdc_ipv4_host_in(n->gateway, n->net, n->prefix) || !vdc_ipv4_host_in(n->server, n->net, n->prefix) ||
	    n->gateway == n->server)
		return vdc_err_set(err, -EINVAL, "the gateway and the DHCP server must be two host addresses of the cidr");
	dhcp = json_object_get(o, VDC_WIRE_DHCP);
	if (!json_is_boolean(dhcp))
		return vdc_err_set(err, -EINVAL, "\"dhcp\" is not true or false");
	n->dhcp = json_is_true(dhcp);
	mac = vdc_json_str(o, VDC_WIRE_SERVER_MAC, NULL);
	if (!mac)
		return vdc_err_set(err, -EINVAL, "\"server_mac\" is missing");
	if ((rc = hva_mac_parse(mac, n->server_mac, err)) < 0)
		return vdc_err_wrap(err, rc, "\"server_mac\"");
	rc = get_ipv4_list(o, VDC_WIRE_DNS, HVA_DNS_MAX, &dns, &n->n_dns, err);
	for (i = 0; rc == 0 && i < n->n_dns; i++)
		n->dns[i] = dns[i];
	free(dns);
	if (rc < 0)
		return rc;
	rc = get_ipv4_list(o, VDC_WIRE_PEERS, HVA_PEERS_MAX, &n->peers, &n->n_peers, err);
	if (rc < 0)
		return rc;
	return parse_remote(json_object_get(o, VDC_WIRE_REMOTE), n, err);
}

/*
 * "networks": a malformed entry keeps its name and says why in its err,
 * and so does every entry past the first HVA_NETWORKS_MAX (this host
 * builds those and no more; the instances with a nic on another are
 * refused one by one). The document as a whole fails only when the list
 * is not a list.
 */
static int parse_networks(json_t *list, struct hva_desired *d, struct vdc_err *err)
{
	json_t *o;
	size_t i, j;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return vdc_err_set(err, -EINVAL, "\"networks\" is not a list");
	d->networks = xcalloc(json_array_size(list) ? json_array_size(list) : 1, sizeof(*d->networks));
	json_array_foreach(list, i, o) {
		struct hva_network_spec *n = &d->networks[d->n_networks];
		struct vdc_err why = VDC_ERR_INIT;

		if (!json_is_object(o) || vdc_json_name(o, VDC_WIRE_NAME, VDC_JSON_REQUIRED, n->name, NULL) < 0)
			continue;   /* nothing can name it */
		d->n_networks++;
		if (d->n_networks > HVA_NETWORKS_MAX) {
			snprintf(n->err, sizeof(n->err), "this host carries at most %d networks; it was sent %zu",
				 HVA_NETWORKS_MAX, json_array_size(list));
			continue;
		}
		if (parse_network_body(o, n, &why) < 0) {
			snprintf(n->err, sizeof(n->err), "%s", why.msg);
			continue;
		}
		for (j = 0; j + 1 < d->n_networks; j++)
			if (strcmp(d->networks[j].name, n->name) == 0 || d->networks[j].vni == n->vni)
				snprintf(n->err, sizeof(n->err), "the desired state names network %s or vni %u twice",
					 n->name, n->vni);
	}
	return 0;
}

static int parse_group_body(json_t *o, struct hva_group_spec *g, struct vdc_err *err)
{
	size_t len;
	const char *rules = vdc_json_str(o, VDC_WIRE_RULES, &len);
	int rc;

	if (rules && len) {
		g->rules = xcalloc(VDC_RULES_MAX, sizeof(*g->rules));
		rc = vdc_rules_parse(rules, len, g->rules, &g->n_rules, err);
		if (rc < 0)
			return rc;
	}
	return get_ipv4_list(o, VDC_WIRE_MEMBERS, HVA_MEMBERS_MAX, &g->members, &g->n_members, err);
}

/*
 * "security_groups": like "networks", a malformed entry, or one past the
 * first HVA_DOC_GROUPS_MAX, keeps its name and says why in its err.
 */
static int parse_groups(json_t *list, struct hva_desired *d, struct vdc_err *err)
{
	json_t *o;
	size_t i, j;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return vdc_err_set(err, -EINVAL, "\"security_groups\" is not a list");
	d->groups = xcalloc(json_array_size(list) ? json_array_size(list) : 1, sizeof(*d->groups));
	json_array_foreach(list, i, o) {
		struct hva_group_spec *g = &d->groups[d->n_groups];
		struct vdc_err why = VDC_ERR_INIT;

		if (!json_is_object(o) || vdc_json_name(o, VDC_WIRE_NAME, VDC_JSON_REQUIRED, g->name, NULL) < 0)
			continue;
		d->n_groups++;
		if (d->n_groups > HVA_DOC_GROUPS_MAX)
			snprintf(g->err, sizeof(g->err), "this host carries at most %d security groups; it was sent %zu",
				 HVA_DOC_GROUPS_MAX, json_array_size(list));
		else if (parse_group_body(o, g, &why) < 0)
			snprintf(g->err, sizeof(g->err), "%s", why.msg);
		for (j = 0; j + 1 < d->n_groups; j++)
			if (strcmp(d->groups[j].name, g->name) == 0)
				snprintf(g->err, sizeof(g->err), "the desired state names security group %s twice", g->name);
	}
	return 0;
}

const struct hva_network_spec *hva_network_find(const struct hva_desired *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_networks; i++)
		if (strcmp(d->networks[i].name, name) == 0)
			return &d->networks[i];
	return NULL;
}

const struct hva_group_spec *hva_group_find(const struct hva_desired *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_groups; i++)
		if (strcmp(d->groups[i].name, name) == 0)
			return &d->groups[i];
	return NULL;
}

int hva_instance_networks_ok(const struct hva_instance_spec *in, struct vdc_err *err)
{
	size_t i;

	for (i = 0; i < in->n_nics; i++) {
		const struct hva_nic_spec *nic = &in->nics[i];

		if (!nic->network[0])
			continue;
		if (!nic->net)
			return vdc_err_set(err, -EINVAL, "interface %s: network %s is not ready: it does not exist or has no cidr",
					   nic->name, nic->network);
		if (nic->net->err[0])
			return vdc_err_set(err, -EINVAL, "interface %s: network %s is refused by this host: %s",
					   nic->name, nic->network, nic->net->err);
	}
	return 0;
}

/*
 * Point every nic at the entry of its network, once every list is
 * parsed; an instance in a security group whose entry was refused is
 * refused too (its firewall would not be what vdcfs asked for), with the
 * group's reason.
 */
static void resolve_refs(struct hva_desired *d)
{
	size_t i, k, on_nets = 0;

	for (i = 0; i < d->n; i++) {
		struct hva_instance_spec *in = &d->inst[i];
		size_t mine = 0;

		for (k = 0; k < in->n_nics; k++) {
			if (in->nics[k].network[0]) {
				in->nics[k].net = hva_network_find(d, in->nics[k].network);
				mine++;
			}
		}
		/* The firewall fences HVA_HOST_NICS_MAX nics on networks: the instances past them are refused. */
		if (!in->err[0] && on_nets + mine > HVA_HOST_NICS_MAX)
			snprintf(in->err, sizeof(in->err), "this host fences at most %d nics on networks; this instance's %zu would make %zu",
				 HVA_HOST_NICS_MAX, mine, on_nets + mine);
		else if (!in->err[0])
			on_nets += mine;
		for (k = 0; !in->err[0] && k < in->n_groups; k++) {
			const struct hva_group_spec *g = hva_group_find(d, in->groups[k]);

			if (g && g->err[0])
				snprintf(in->err, sizeof(in->err), "security group %s is refused by this host: %.200s",
					 g->name, g->err);
		}
	}
}

int hva_desired_from_json(const void *json, struct hva_desired *d, struct vdc_err *err)
{
	json_t *root = (json_t *)json, *list, *o;
	struct vdc_err no_initiator = VDC_ERR_INIT;
	const char *dc;
	size_t i, j, len;
	uint64_t v;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(root))
		return vdc_err_set(err, -EINVAL, "the desired state is not a JSON object");
	rc = vdc_json_uint(root, VDC_WIRE_REV, 0, UINT64_MAX >> 1, &d->rev, err);
	if (rc == -ENOENT)
		return vdc_err_set(err, -EINVAL, "the desired state has no \"rev\"");
	if (rc < 0)
		return vdc_err_wrap(err, rc, "the desired state");
	dc = vdc_json_str(root, VDC_WIRE_DC, &len);
	if (!dc || len == 0 || len > HVA_DC_MAX)
		return vdc_err_set(err, -EINVAL, "the desired state has no data center id (\"dc\") of 1-%d characters",
				   HVA_DC_MAX);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)dc[i]) && dc[i] != '-')
			return vdc_err_set(err, -EINVAL, "the data center id holds '%s'; it takes letters, digits and '-'",
					   VDC_Q(((char[2]){ dc[i], 0 })));
	memcpy(d->dc, dc, len + 1);
	rc = vdc_json_uint(root, VDC_WIRE_HEARTBEAT, 1, HVA_HEARTBEAT_MAX, &v, err);
	if (rc == 0)
		d->heartbeat = (unsigned)v;
	parse_initiator(root, d, &no_initiator);
	parse_pki(json_object_get(root, VDC_WIRE_PKI), &d->pki);
	list = json_object_get(root, VDC_WIRE_INSTANCES);
	if (!json_is_array(list))
		return vdc_err_set(err, -EINVAL, "the desired state has no \"instances\" list");
	d->inst = xcalloc(json_array_size(list), sizeof(*d->inst));
	json_array_foreach(list, i, o) {
		struct hva_instance_spec *in = &d->inst[d->n];
		struct vdc_err why = VDC_ERR_INIT;
		uint64_t id;

		if (!json_is_object(o) || vdc_json_uint(o, VDC_WIRE_ID, 1, UINT64_MAX >> 1, &id, NULL) < 0 ||
		    vdc_json_name(o, VDC_WIRE_DOMAIN, VDC_JSON_REQUIRED, in->domain, NULL) < 0)
			continue;   /* cannot even be reported */
		in->id = id;
		in->user_data = xstrdup("");
		for (j = 0; j < d->n; j++)
			if (d->inst[j].id == id || strcmp(d->inst[j].domain, in->domain) == 0)
				break;
		d->n++;
		if (j < d->n - 1) {
			snprintf(in->err, sizeof(in->err), "the desired state names instance %" PRIu64 " or domain %s twice",
				 id, in->domain);
			continue;
		}
		if (parse_instance_body(o, in, &why) < 0)
			snprintf(in->err, sizeof(in->err), "the desired state of this instance is malformed: %s", why.msg);
		else if (in->n_volumes && !d->initiator[0])
			snprintf(in->err, sizeof(in->err), "cannot attach volumes: %s", no_initiator.msg);
		else if (in->disk.present && !d->initiator[0])
			snprintf(in->err, sizeof(in->err), "cannot boot from its disk: %s", no_initiator.msg);
	}
	rc = parse_networks(json_object_get(root, VDC_WIRE_NETWORKS), d, err);
	if (rc == 0)
		rc = parse_groups(json_object_get(root, VDC_WIRE_SECURITY_GROUPS), d, err);
	if (rc < 0)
		return vdc_err_wrap(err, rc, "the desired state");
	resolve_refs(d);
	return 0;
}

int hva_desired_parse(const char *json, size_t len, struct hva_desired *d, struct vdc_err *err)
{
	json_error_t je;
	json_t *root;
	int rc;

	memset(d, 0, sizeof(*d));
	root = json_loadb(json, len, 0, &je);
	if (!root)
		return vdc_err_set(err, -EINVAL, "the desired state is not JSON: %s at line %d", VDC_Q(je.text), je.line);
	rc = hva_desired_from_json(root, d, err);
	json_decref(root);
	return rc;
}

void hva_desired_release(struct hva_desired *d)
{
	size_t i, k;

	for (i = 0; i < d->n; i++) {
		struct hva_instance_spec *in = &d->inst[i];

		free(in->user_data);
		for (k = 0; k < in->n_ssh_keys; k++)
			free(in->ssh_keys[k]);
		free(in->ssh_keys);
		free(in->nics);
		free(in->volumes);
		free(in->groups);
	}
	free(d->inst);
	for (i = 0; i < d->n_networks; i++) {
		free(d->networks[i].peers);
		free(d->networks[i].remote);
	}
	free(d->networks);
	for (i = 0; i < d->n_groups; i++) {
		free(d->groups[i].rules);
		free(d->groups[i].members);
	}
	free(d->groups);
	free(d->pki.ca);
	free(d->pki.cert);
	free(d->pki.key);
	memset(d, 0, sizeof(*d));
}

const struct hva_instance_spec *hva_desired_find(const struct hva_desired *d, const char *domain)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->inst[i].domain, domain) == 0)
			return &d->inst[i];
	return NULL;
}
