#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "file.h"
#include "log.h"
#include "proto.h"
#include "validate.h"
#include "wire_doc.h"

const struct vdc_msg_info vdc_msg_info[VDC_MSG_MAX] = {
	[VDC_MSG_JOIN] = { "join", "POST", false, 30 },
	[VDC_MSG_DESIRED] = { "desired", "GET", true, 15 },
	[VDC_MSG_REPORT] = { "report", "POST", true, 15 },
	[VDC_MSG_CONSOLE] = { "console", "POST", true, 15 },
	[VDC_MSG_IMAGE] = { "image", "GET", true, 0 },
	[VDC_MSG_CONSOLE_INPUT] = { "console input", "GET", true, 15 },
};

/* The most a JSON answer may hold: a desired state of many instances. */
#define ANSWER_MAX (64u << 20)
/* The most of an error answer kept for the sentence. */
#define ERROR_BODY_MAX 4096u
/* A download that moves less than a byte a second for this long is cut. */
#define IMAGE_STALL_S 60L

int vdc_server_parse(const char *server, char **url, struct vdc_err *err)
{
	const char *colon, *host_end;
	uint64_t port;
	size_t hlen, i;
	struct strbuf sb = STRBUF_INIT;

	if (!server || !*server)
		return vdc_err_set(err, -EINVAL, "--server needs ADDR:PORT, like 192.0.2.1:7443");
	colon = strrchr(server, ':');
	if (!colon || colon == server)
		return vdc_err_set(err, -EINVAL, "--server '%s' lacks a port; write ADDR:PORT, like 192.0.2.1:7443",
				   VDC_Q(server));
	if (vdc_uint_parse(colon + 1, strlen(colon + 1), "the port of --server", 1, 65535, &port, err) < 0) {
		if (err)
			err->code = -EINVAL;
		return -EINVAL;
	}
	host_end = colon;
	hlen = (size_t)(host_end - server);
	if (server[0] == '[') {
		if (hlen < 3 || server[hlen - 1] != ']')
			return vdc_err_set(err, -EINVAL, "--server '%s': an IPv6 address goes in brackets, like [2001:db8::1]:7443",
					   VDC_Q(server));
		for (i = 1; i < hlen - 1; i++)
			if (!isxdigit((unsigned char)server[i]) && server[i] != ':' && server[i] != '.')
				goto bad;
	} else {
		for (i = 0; i < hlen; i++)
			if (!isalnum((unsigned char)server[i]) && server[i] != '.' && server[i] != '-')
				goto bad;
	}
	strbuf_addf(&sb, "https://%.*s:%" PRIu64, (int)hlen, server, port);
	*url = strbuf_detach(&sb, NULL);
	return 0;
bad:
	return vdc_err_set(err, -EINVAL, "--server '%s' is not ADDR:PORT with an IPv4 address, a host name or a bracketed IPv6 address",
			   VDC_Q(server));
}

int vdc_pin_check(const char *pin, struct vdc_err *err)
{
	static const char prefix[] = "sha256//";
	const char *p = pin;

	if (!pin || !*pin)
		return vdc_err_set(err, -EINVAL, "--pin needs sha256//BASE64, the SHA-256 of the server's public key, as `cat /vdc/hosts/join` shows it");
	for (;;) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		unsigned char raw[48];
		long n;

		if (len < sizeof(prefix) - 1 || memcmp(p, prefix, sizeof(prefix) - 1) != 0)
			return vdc_err_set(err, -EINVAL, "--pin '%s' does not start with sha256//", VDC_Q(pin));
		if (len - (sizeof(prefix) - 1) != 44)
			return vdc_err_set(err, -EINVAL, "--pin '%s' is not sha256// and 44 characters of base64 (32 bytes)",
					   VDC_Q(pin));
		n = vdc_base64_decode(p + sizeof(prefix) - 1, 44, raw);
		if (n != 32)
			return vdc_err_set(err, -EINVAL, "--pin '%s' is not sha256// and the base64 of 32 bytes",
					   VDC_Q(pin));
		if (!end)
			return 0;
		p = end + 1;
	}
}

int vdc_token_check(const char *token, struct vdc_err *err)
{
	size_t i, len = strlen(token);

	if (len != VDC_TOKEN_LEN)
		return vdc_err_set(err, -EINVAL, "a token is 64 hexadecimal digits, not %zu characters", len);
	for (i = 0; i < len; i++)
		if (vdc_hex_digit(token[i]) < 0)
			return vdc_err_set(err, -EINVAL, "a token is 64 hexadecimal digits; '%s' is not one",
					   VDC_Q(((char[2]){ token[i], 0 })));
	return 0;
}

int vdc_proto_init(struct vdc_proto *p, const char *server, const char *pin,
		   const char *name, const char *kind, const char *statedir,
		   const char *join_token, struct vdc_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->connect_timeout_s = VDC_PROTO_HANDSHAKE_S;
	rc = vdc_server_parse(server, &p->base_url, err);
	if (rc < 0)
		return rc;
	rc = vdc_pin_check(pin, err);
	if (rc < 0)
		return rc;
	rc = vdc_name_check(name, strlen(name), err);
	if (rc < 0)
		return rc;
	if (join_token) {
		rc = vdc_token_check(join_token, err);
		if (rc < 0)
			return rc;
		p->join_token = xstrdup(join_token);
	}
	p->pin = xstrdup(pin);
	p->name = xstrdup(name);
	p->kind = xstrdup(kind);
	strbuf_addf(&sb, "%s/host.token", statedir);
	p->token_path = strbuf_detach(&sb, NULL);
	strbuf_addf(&sb, "%s/host.name", statedir);
	p->name_path = strbuf_detach(&sb, NULL);
	strbuf_addf(&sb, "%s/host.dc", statedir);
	p->dc_path = strbuf_detach(&sb, NULL);
	p->other_dc = vdc_proto_other_dc(statedir, pin);
	return 0;
}

void vdc_proto_release(struct vdc_proto *p)
{
	free(p->base_url);
	free(p->pin);
	free(p->name);
	free(p->kind);
	free(p->join_token);
	free(p->token_path);
	free(p->name_path);
	free(p->dc_path);
	pthread_mutex_destroy(&p->lock);
	memset(p, 0, sizeof(*p));
}

/* Read a one-line file into `out` (outlen bytes), without the newline. */
static int read_line_file(const char *path, char *out, size_t outlen, struct vdc_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	rc = vdc_file_read(path, 256, &sb, err);
	if (rc < 0) {
		strbuf_release(&sb);
		return rc;
	}
	while (sb.len && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
		strbuf_setlen(&sb, sb.len - 1);
	if (sb.len >= outlen) {
		strbuf_release(&sb);
		return vdc_err_set(err, -EINVAL, "%s holds more than one short line", path);
	}
	memcpy(out, sb.buf, sb.len + 1);
	strbuf_release(&sb);
	return 0;
}

/* Whether two --pin lists ("sha256//A;sha256//B") name a key in common. */
static bool pins_meet(const char *a, const char *b)
{
	const char *p, *q;
	size_t la, lb;

	for (p = a; *p; p += la + (p[la] == ';')) {
		la = strcspn(p, ";");
		for (q = b; *q; q += lb + (q[lb] == ';')) {
			lb = strcspn(q, ";");
			if (la == lb && la && memcmp(p, q, la) == 0)
				return true;
		}
	}
	return false;
}

bool vdc_proto_other_dc(const char *statedir, const char *pin)
{
	char path[PATH_MAX], saved[512];

	snprintf(path, sizeof(path), "%s/host.dc", statedir);
	if (read_line_file(path, saved, sizeof(saved), NULL) < 0)
		return false;   /* joined before host.dc was kept, or never */
	return !pins_meet(saved, pin);
}

int vdc_proto_saved_name(const char *statedir, const char *pin, char *out, struct vdc_err *err)
{
	char path[PATH_MAX];
	int rc;

	if (pin && vdc_proto_other_dc(statedir, pin))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/host.name", statedir);
	rc = read_line_file(path, out, VDC_NAME_MAX + 1, err);
	if (rc < 0)
		return rc;
	return vdc_name_check(out, strlen(out), err);
}

int vdc_conn_init(struct vdc_conn *l, struct vdc_proto *p, struct vdc_err *err)
{
	memset(l, 0, sizeof(*l));
	l->proto = p;
	strbuf_init(&l->body, 0);
	l->curl = curl_easy_init();
	if (!l->curl)
		return vdc_err_set(err, -ENOMEM, "cannot make a curl handle");
	return 0;
}

void vdc_conn_release(struct vdc_conn *l)
{
	if (l->curl)
		curl_easy_cleanup(l->curl);
	strbuf_release(&l->body);
	memset(l, 0, sizeof(*l));
}

/* One request in flight: where its answer goes. */
struct request {
	struct vdc_conn *link;
	enum vdc_msg_type type;
	const char *path;             /* after the base URL, starting with '/' */
	const void *body;             /* NULL for GET */
	size_t body_len;
	const char *content_type;
	long extra_timeout_s;         /* added to the message's timeout */

	/* A download goes to `fd` with a running SHA-256 when the status is 200. */
	int fd;
	gnutls_hash_hd_t hash;
	uint64_t max_size;
	uint64_t written;
	int sink_errno;
	char header_sha[VDC_TOKEN_LEN + 1];
};

/*
 * Write a downloaded piece, seeking over blocks of zeros instead of
 * writing them, so an image keeps its holes (vdcfs's images are sparse;
 * the caller sets the final length). Returns 0 or an errno.
 */
static int sink_write(int fd, const char *p, size_t len)
{
	static const char zeros[4096];

	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		if (memcmp(p, zeros, n) == 0) {
			if (lseek(fd, (off_t)n, SEEK_CUR) < 0)
				return errno;
		} else {
			size_t left = n;
			const char *q = p;

			while (left) {
				ssize_t w = write(fd, q, left);

				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					return errno;
				q += w;
				left -= (size_t)w;
			}
		}
		p += n;
		len -= n;
	}
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
	struct request *rq = opaque;
	size_t len = size * nmemb;
	long status = 0;

	curl_easy_getinfo(rq->link->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rq->fd >= 0 && status == 200) {
		if (rq->max_size && rq->written + len > rq->max_size) {
			rq->sink_errno = EBADMSG;
			return 0;
		}
		gnutls_hash(rq->hash, data, len);
		rq->sink_errno = sink_write(rq->fd, data, len);
		if (rq->sink_errno)
			return 0;
		rq->written += len;
		return len;
	}
	if (rq->link->body.len + len > (rq->fd >= 0 ? ERROR_BODY_MAX : ANSWER_MAX)) {
		rq->sink_errno = EFBIG;
		return 0;
	}
	strbuf_add(&rq->link->body, data, len);
	return len;
}

static int on_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct request *rq = opaque;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return __atomic_load_n(&rq->link->proto->abort, __ATOMIC_RELAXED) ? 1 : 0;
}

void vdc_proto_abort(struct vdc_proto *p)
{
	__atomic_store_n(&p->abort, 1, __ATOMIC_RELAXED);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *opaque)
{
	static const char name[] = "x-vdc-sha256:";
	struct request *rq = opaque;
	size_t len = size * nmemb, i, o = 0;

	if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		for (i = sizeof(name) - 1; i < len && o < VDC_TOKEN_LEN; i++) {
			if (vdc_hex_digit(data[i]) >= 0)
				rq->header_sha[o++] = (char)tolower((unsigned char)data[i]);
			else if (data[i] != ' ' && data[i] != '\t')
				break;
		}
		rq->header_sha[o] = '\0';
	}
	return len;
}

/* The server's {"error": "..."} as printable text, or a short excerpt. */
static void answer_sentence(const struct strbuf *body, char *out, size_t outlen)
{
	const char *text = body->buf;
	json_t *j = NULL, *e;
	size_t i, o = 0;

	if (body->len) {
		j = json_loadb(body->buf, body->len, 0, NULL);
		e = json_object_get(j, VDC_WIRE_ERROR);
		if (json_is_string(e))
			text = json_string_value(e);
	}
	for (i = 0; text[i] && o + 1 < outlen && o < 200; i++) {
		unsigned char c = (unsigned char)text[i];

		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
	}
	while (o && out[o - 1] == ' ')
		o--;
	if (o && out[o - 1] == '.')
		o--;
	out[o] = '\0';
	json_decref(j);
}

static int status_errno(long status)
{
	switch (status) {
	case 400: return -EINVAL;
	case 401:
	case 403: return -EACCES;
	case 404: return -ENOENT;
	case 409: return -EEXIST;
	case 413: return -EFBIG;
	default: return -EIO;
	}
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return -EPERM;
	default: return -EIO;
	}
}

bool vdc_proto_transient(int code)
{
	return code == -ECONNREFUSED || code == -ETIMEDOUT || code == -EHOSTUNREACH ||
	       code == -EIO || code == -EAGAIN || code == -ECONNRESET;
}

/*
 * Send one request. On 200 the answer's body is in l->body (or, for a
 * download, in rq->fd); anything else is an error with a sentence that
 * names the message and carries the server's reason.
 */
static int request_send(struct request *rq, struct vdc_err *err)
{
	struct vdc_conn *l = rq->link;
	struct vdc_proto *p = l->proto;
	const struct vdc_msg_info *mi = &vdc_msg_info[rq->type];
	struct curl_slist *headers = NULL;
	char curl_msg[CURL_ERROR_SIZE] = "";
	char line[VDC_TOKEN_LEN + 64];
	struct strbuf url = STRBUF_INIT;
	CURL *c = l->curl;
	CURLcode crc;
	int rc = 0;

	strbuf_reset(&l->body);
	l->status = 0;
	if (__atomic_load_n(&p->abort, __ATOMIC_RELAXED))
		return vdc_err_set(err, -ECANCELED, "the %s was cancelled: the agent is stopping", mi->name);
	curl_easy_reset(c);
	strbuf_addf(&url, "%s%s", p->base_url, rq->path);
	curl_easy_setopt(c, CURLOPT_URL, url.buf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	/* The pin is the trust: no CA signs vdcfs's self-made certificate. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, p->pin);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, p->connect_timeout_s);
	if (mi->timeout_s)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, mi->timeout_s + rq->extra_timeout_s);
	else {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, IMAGE_STALL_S);
	}
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rq);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rq);
	curl_easy_setopt(c, CURLOPT_VERBOSE, p->verbose ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, rq);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vdc-agent");
	/* No "Expect: 100-continue" round trip before a body. */
	headers = curl_slist_append(headers, "Expect:");
	if (rq->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", rq->content_type);
		headers = curl_slist_append(headers, line);
	}
	if (mi->auth) {
		pthread_mutex_lock(&p->lock);
		snprintf(line, sizeof(line), "Authorization: Bearer %s", p->host_token);
		pthread_mutex_unlock(&p->lock);
		headers = curl_slist_append(headers, line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	if (strcmp(mi->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}

	crc = curl_easy_perform(c);
	/* Nothing may keep pointing at this stack frame. */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	explicit_bzero(line, sizeof(line));
	curl_slist_free_all(headers);
	if (crc != CURLE_OK) {
		if (crc == CURLE_ABORTED_BY_CALLBACK)
			rc = vdc_err_set(err, -ECANCELED, "the %s was cancelled: the agent is stopping", mi->name);
		else if (rq->sink_errno == EBADMSG)
			rc = vdc_err_set(err, -EBADMSG, "the %s answer from vdcfs is larger than the %" PRIu64 " bytes expected",
					 mi->name, rq->max_size);
		else if (rq->sink_errno)
			rc = vdc_err_set(err, -rq->sink_errno, "cannot keep the %s answer from vdcfs: %s",
					 mi->name, strerror(rq->sink_errno));
		else if (crc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
			rc = vdc_err_set(err, -EPERM, "the server at %s does not hold the public key of --pin; it is not the vdcfs this host joins",
					 p->base_url + strlen("https://"));
		else
			rc = vdc_err_set(err, curl_errno(crc), "%s to vdcfs at %s failed: %s", mi->name,
					 p->base_url + strlen("https://"), *curl_msg ? curl_msg : curl_easy_strerror(crc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &l->status);
	if (l->status != 200) {
		char why[256];

		answer_sentence(&l->body, why, sizeof(why));
		rc = vdc_err_set(err, status_errno(l->status), "vdcfs refused the %s with status %ld%s%s",
				 mi->name, l->status, *why ? ": " : "", why);
	}
out:
	strbuf_release(&url);
	return rc;
}

/* Parse l->body as a JSON object. */
static int answer_json(struct vdc_conn *l, enum vdc_msg_type type, json_t **out, struct vdc_err *err)
{
	json_error_t je;
	json_t *j;

	j = json_loadb(l->body.buf, l->body.len, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return vdc_err_set(err, -EINVAL, "the %s answer from vdcfs is not a JSON object: %s",
				   vdc_msg_info[type].name, j ? "another JSON value" : je.text);
	}
	*out = j;
	return 0;
}

static int save_token(struct vdc_proto *p, const char *token, struct vdc_err *err)
{
	char line[VDC_TOKEN_LEN + 2];
	struct strbuf name = STRBUF_INIT;
	int rc;

	snprintf(line, sizeof(line), "%s\n", token);
	/*
	 * The name and the data center (its pin) first: a token without them
	 * would be used under another name, or in another data center. A
	 * token of another data center goes before them: a crash between
	 * leaves no token, and the next start joins again.
	 */
	if (p->other_dc && unlink(p->token_path) < 0 && errno != ENOENT)
		return vdc_err_set(err, -errno, "cannot remove %s: %s", p->token_path, strerror(errno));
	strbuf_addf(&name, "%s\n", p->name);
	rc = vdc_file_write_atomic(p->name_path, name.buf, name.len, 0644, err);
	strbuf_reset(&name);
	strbuf_addf(&name, "%s\n", p->pin);
	if (rc == 0)
		rc = vdc_file_write_atomic(p->dc_path, name.buf, name.len, 0644, err);
	strbuf_release(&name);
	if (rc == 0)
		rc = vdc_file_write_atomic(p->token_path, line, strlen(line), 0600, err);
	if (rc == 0)
		p->other_dc = false;
	explicit_bzero(line, sizeof(line));
	return rc;
}

/* POST /v1/join and keep the host token it answers. */
static int join(struct vdc_conn *l, struct vdc_err *err)
{
	struct vdc_proto *p = l->proto;
	struct request rq = { .link = l, .type = VDC_MSG_JOIN, .path = "/v1/join",
			      .content_type = "application/json", .fd = -1 };
	json_t *body, *answer = NULL, *tok;
	char *text;
	int rc;

	if (!p->join_token)
		return vdc_err_set(err, -ENOKEY, "this host has no host token in %s and no --token to join with", p->token_path);
	body = json_pack("{s:s, s:s, s:s}", VDC_WIRE_NAME, p->name, VDC_WIRE_TOKEN, p->join_token,
			 VDC_WIRE_KIND, p->kind);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	rq.body = text;
	rq.body_len = strlen(text);
	rc = request_send(&rq, err);
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc == -EEXIST)
		return vdc_err_set(err, -EEXIST, "vdcfs has a host named %s already (and this host has no token for it in %s); `rmdir /vdc/hosts/%s` first, or use another --name",
				   p->name, p->token_path, p->name);
	if (rc == -EACCES)
		return vdc_err_set(err, -EACCES, "vdcfs refused the join token; copy the command from `cat /vdc/hosts/join` again");
	if (rc < 0)
		return rc;
	rc = answer_json(l, VDC_MSG_JOIN, &answer, err);
	if (rc < 0)
		return rc;
	tok = json_object_get(answer, VDC_WIRE_TOKEN);
	if (!json_is_string(tok) || vdc_token_check(json_string_value(tok), NULL) < 0) {
		json_decref(answer);
		return vdc_err_set(err, -EINVAL, "the join answer from vdcfs carries no valid host token");
	}
	rc = save_token(p, json_string_value(tok), err);
	if (rc == 0) {
		pthread_mutex_lock(&p->lock);
		snprintf(p->host_token, sizeof(p->host_token), "%s", json_string_value(tok));
		pthread_mutex_unlock(&p->lock);
		log_info("joined vdcfs at %s as %s", p->base_url + strlen("https://"), p->name);
	}
	json_decref(answer);
	return rc;
}

int vdc_proto_ensure_token(struct vdc_conn *l, struct vdc_err *err)
{
	struct vdc_proto *p = l->proto;
	char token[VDC_TOKEN_LEN + 1];
	int rc;

	if (p->other_dc) {
		/* The saved token is another data center's: never shown to this one. */
		if (!p->join_token)
			return vdc_err_set(err, -ENOKEY, "this host is in another data center (%s names another key than --pin); give this one's --token, from `cat /vdc/hosts/join`, to join it",
					   p->dc_path);
		return join(l, err);
	}
	rc = read_line_file(p->token_path, token, sizeof(token), err);
	if (rc == 0) {
		rc = vdc_token_check(token, err);
		if (rc < 0)
			return vdc_err_wrap(err, rc, "%s does not hold a host token", p->token_path);
		pthread_mutex_lock(&p->lock);
		memcpy(p->host_token, token, sizeof(token));
		pthread_mutex_unlock(&p->lock);
		explicit_bzero(token, sizeof(token));
		return 0;
	}
	if (rc != -ENOENT)
		return rc;
	return join(l, err);
}

int vdc_proto_desired(struct vdc_conn *l, uint64_t rev, unsigned wait_s, json_t **out,
		      struct vdc_err *err)
{
	struct request rq = { .link = l, .type = VDC_MSG_DESIRED, .fd = -1 };
	char path[256];
	int rc;

	if (wait_s > VDC_DESIRED_WAIT_MAX)
		wait_s = VDC_DESIRED_WAIT_MAX;
	snprintf(path, sizeof(path), "/v1/hosts/%s/desired?rev=%" PRIu64 "&wait=%u",
		 l->proto->name, rev, wait_s);
	rq.path = path;
	rq.extra_timeout_s = rev ? wait_s : 0;
	rc = request_send(&rq, err);
	if (rc < 0)
		return rc;
	return answer_json(l, VDC_MSG_DESIRED, out, err);
}

int vdc_proto_console_input(struct vdc_conn *l, unsigned wait_s, json_t **out, struct vdc_err *err)
{
	struct request rq = { .link = l, .type = VDC_MSG_CONSOLE_INPUT, .fd = -1 };
	char path[256];
	int rc;

	if (wait_s > VDC_DESIRED_WAIT_MAX)
		wait_s = VDC_DESIRED_WAIT_MAX;
	snprintf(path, sizeof(path), "/v1/hosts/%s/console-input?wait=%u", l->proto->name, wait_s);
	rq.path = path;
	rq.extra_timeout_s = wait_s;
	rc = request_send(&rq, err);
	if (rc < 0)
		return rc;
	return answer_json(l, VDC_MSG_CONSOLE_INPUT, out, err);
}

int vdc_proto_report(struct vdc_conn *l, json_t *report, struct vdc_err *err)
{
	struct request rq = { .link = l, .type = VDC_MSG_REPORT, .fd = -1,
			      .content_type = "application/json" };
	char path[256];
	char *text;
	int rc;

	snprintf(path, sizeof(path), "/v1/hosts/%s/report", l->proto->name);
	rq.path = path;
	text = json_dumps(report, JSON_COMPACT);
	if (!text)
		return vdc_err_set(err, -ENOMEM, "cannot encode the report");
	rq.body = text;
	rq.body_len = strlen(text);
	rc = request_send(&rq, err);
	free(text);
	return rc;
}

int vdc_proto_console(struct vdc_conn *l, uint64_t id, uint64_t offset, const void *buf,
		      size_t len, uint64_t *have, struct vdc_err *err)
{
	struct request rq = { .link = l, .type = VDC_MSG_CONSOLE, .fd = -1, .body = buf,
			      .body_len = len, .content_type = "application/octet-stream" };
	char path[256];
	json_t *answer = NULL, *h;
	int rc;

	if (len > VDC_CONSOLE_CHUNK)
		return vdc_err_set(err, -EFBIG, "a console upload carries at most %d bytes", VDC_CONSOLE_CHUNK);
	snprintf(path, sizeof(path), "/v1/hosts/%s/console/%" PRIu64 "?offset=%" PRIu64,
		 l->proto->name, id, offset);
	rq.path = path;
	rc = request_send(&rq, err);
	if (rc < 0)
		return rc;
	rc = answer_json(l, VDC_MSG_CONSOLE, &answer, err);
	if (rc < 0)
		return rc;
	h = json_object_get(answer, VDC_WIRE_HAVE);
	if (!json_is_integer(h) || json_integer_value(h) < 0) {
		json_decref(answer);
		return vdc_err_set(err, -EINVAL, "the console answer from vdcfs has no \"have\" count");
	}
	*have = (uint64_t)json_integer_value(h);
	json_decref(answer);
	return 0;
}

int vdc_proto_image(struct vdc_conn *l, const char *image, const char *want_sha256,
		    uint64_t max_size, int fd, uint64_t *size, struct vdc_err *err)
{
	struct request rq = { .link = l, .type = VDC_MSG_IMAGE, .fd = fd, .max_size = max_size };
	unsigned char digest[32];
	char path[256], got[VDC_TOKEN_LEN + 1];
	off_t start;
	int rc, i;

	if (vdc_name_check(image, strlen(image), err) < 0)
		return err ? err->code : -EINVAL;
	snprintf(path, sizeof(path), "/v1/hosts/%s/images/%s", l->proto->name, image);
	rq.path = path;
	start = lseek(fd, 0, SEEK_CUR);
	if (start < 0)
		return vdc_err_set(err, -errno, "cannot tell the position in the image file: %s", strerror(errno));
	if (gnutls_hash_init(&rq.hash, GNUTLS_DIG_SHA256) < 0)
		return vdc_err_set(err, -ENOMEM, "cannot start a SHA-256");
	rc = request_send(&rq, err);
	gnutls_hash_deinit(rq.hash, digest);
	if (rc < 0)
		return rc;
	/* Trailing zeros were sought over, not written: the length is set here. */
	if (ftruncate(fd, start + (off_t)rq.written) < 0)
		return vdc_err_set(err, -errno, "cannot set the length of the image file: %s", strerror(errno));
	for (i = 0; i < 32; i++)
		snprintf(got + 2 * i, 3, "%02x", digest[i]);
	*size = rq.written;
	if (*rq.header_sha && strcmp(rq.header_sha, want_sha256) != 0)
		return vdc_err_set(err, -EBADMSG, "image %s on vdcfs now has checksum %.12s..., not the %.12s... this host was asked to run; it changed after it was linked",
				   image, rq.header_sha, want_sha256);
	if (strcmp(got, want_sha256) != 0)
		return vdc_err_set(err, -EBADMSG, "image %s as downloaded has checksum %.12s..., not the %.12s... vdcfs named; it is not used",
				   image, got, want_sha256);
	return 0;
}
