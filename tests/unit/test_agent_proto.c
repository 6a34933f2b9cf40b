/*
 * Unit tests for agents/common/proto.c, the agents' protocol client,
 * against a small HTTPS server in a thread of the test (GnuTLS, a fresh
 * self-signed ECDSA key per run, one request per connection).
 *
 * The first case is the one that matters most: with peer verification
 * off (vdcfs's certificate is self-made), the pinned key is the whole of
 * the trust, so a server whose key differs from --pin must be refused by
 * this very libcurl build. The others cover joining and the saved token,
 * each message's path and answer, refusals, checksums of downloads, an
 * unreachable server and cancelling, and the options both agents take
 * that shape the connection (--handshake-timeout).
 *
 * Links the agents/common sources and backend/{strbuf,err,validate,map}.c, with
 * libcurl, jansson and gnutls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "agent.h"
#include "file.h"
#include "image_cache.h"
#include "proto.h"
#include "unit.h"
#include "validate.h"

#define TOKEN_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TOKEN_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
/* The pin of another data center's key. */
#define OTHER_PIN "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define WRONG_PIN "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* What the server answers next, and what it saw last. */
struct fake {
	pthread_mutex_t lock;
	int status;
	char *body;
	size_t body_len;
	char header[160];        /* one extra header line, or "" */
	bool hang;               /* do not answer (for cancelling) */
	bool stall;              /* send `stall_at` bytes of the body, then wait until it is cleared */
	size_t stall_at;

	int requests;
	char method[8];
	char path[512];
	char auth[160];
	char *got_body;
	size_t got_len;
};

static struct {
	gnutls_certificate_credentials_t cred;
	char pin[64];
	int listen_fd;
	int port;
	pthread_t thread;
	struct fake fake;
	char dir[64];
} srv;

static void fake_answer(int status, const char *body, size_t len, const char *header)
{
	pthread_mutex_lock(&srv.fake.lock);
	free(srv.fake.body);
	srv.fake.body = malloc(len ? len : 1);
	memcpy(srv.fake.body, body, len);
	srv.fake.body_len = len;
	srv.fake.status = status;
	snprintf(srv.fake.header, sizeof(srv.fake.header), "%s", header ? header : "");
	pthread_mutex_unlock(&srv.fake.lock);
}

#define ANSWER(status, text) fake_answer((status), (text), strlen(text), NULL)

static ssize_t tls_read_all(gnutls_session_t s, char *buf, size_t cap, size_t *len)
{
	ssize_t n = gnutls_record_recv(s, buf + *len, cap - *len);

	if (n > 0)
		*len += (size_t)n;
	return n;
}

/* Serve one connection: read a request, answer as told. */
static void serve(int fd)
{
	static char req[1 << 20];
	gnutls_session_t s;
	size_t len = 0, want = 0, head = 0, stall_at;
	char *end, line[512];
	struct strbuf out = STRBUF_INIT;

	gnutls_init(&s, GNUTLS_SERVER);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, srv.cred);
	gnutls_transport_set_int(s, fd);
	if (gnutls_handshake(s) < 0)
		goto out;   /* a client that refused our key */
	while (!head) {
		if (tls_read_all(s, req, sizeof(req) - 1, &len) <= 0)
			goto out;
		req[len] = '\0';
		end = strstr(req, "\r\n\r\n");
		if (end) {
			char *cl = strcasestr(req, "\r\ncontent-length:");

			head = (size_t)(end - req) + 4;
			want = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
		}
	}
	while (len < head + want)
		if (tls_read_all(s, req, sizeof(req) - 1, &len) <= 0)
			goto out;

	pthread_mutex_lock(&srv.fake.lock);
	srv.fake.requests++;
	sscanf(req, "%7s %511s", srv.fake.method, srv.fake.path);
	srv.fake.auth[0] = '\0';
	{
		char *a = strcasestr(req, "\r\nauthorization: ");

		if (a && a < req + head)
			sscanf(a + 17, "%159[^\r]", srv.fake.auth);
	}
	free(srv.fake.got_body);
	srv.fake.got_body = malloc(want + 1);
	memcpy(srv.fake.got_body, req + head, want);
	srv.fake.got_body[want] = '\0';
	srv.fake.got_len = want;
	if (srv.fake.hang) {
		int i;

		/* Hold the request until the test lets go (at most 10 s). */
		for (i = 0; i < 200 && srv.fake.hang; i++) {
			pthread_mutex_unlock(&srv.fake.lock);
			usleep(50 * 1000);
			pthread_mutex_lock(&srv.fake.lock);
		}
		pthread_mutex_unlock(&srv.fake.lock);
		goto out;
	}
	strbuf_addf(&out, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n",
		    srv.fake.status, srv.fake.body_len);
	if (srv.fake.header[0])
		strbuf_addf(&out, "%s\r\n", srv.fake.header);
	strbuf_addstr(&out, "\r\n");
	stall_at = srv.fake.stall && srv.fake.stall_at < srv.fake.body_len ? out.len + srv.fake.stall_at : SIZE_MAX;
	strbuf_add(&out, srv.fake.body, srv.fake.body_len);
	pthread_mutex_unlock(&srv.fake.lock);
	{
		size_t off = 0;

		while (off < out.len) {
			size_t upto = off < stall_at ? (stall_at < out.len ? stall_at : out.len) : out.len;
			ssize_t n = gnutls_record_send(s, out.buf + off, upto - off);
			int i;

			if (n <= 0)
				break;
			off += (size_t)n;
			if (off != stall_at)
				continue;
			/* Part of the body sent: wait until the test lets go (at most 30 s). */
			pthread_mutex_lock(&srv.fake.lock);
			for (i = 0; i < 600 && srv.fake.stall; i++) {
				pthread_mutex_unlock(&srv.fake.lock);
				usleep(50 * 1000);
				pthread_mutex_lock(&srv.fake.lock);
			}
			pthread_mutex_unlock(&srv.fake.lock);
		}
	}
	gnutls_bye(s, GNUTLS_SHUT_WR);
out:
	(void)line;
	strbuf_release(&out);
	gnutls_deinit(s);
	close(fd);
}

static void *server_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(srv.listen_fd, NULL, NULL);

		if (fd < 0)
			return NULL;
		serve(fd);
	}
}

/* A fresh ECDSA P-256 key, a self-signed certificate, and its pin. */
static void make_identity(void)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub;
	unsigned char der[512], digest[32];
	size_t der_len = sizeof(der);
	gnutls_datum_t d, b64;
	unsigned char serial = 1;

	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
			 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	gnutls_x509_crt_set_version(crt, 3);
	gnutls_x509_crt_set_serial(crt, &serial, 1);
	gnutls_x509_crt_set_activation_time(crt, time(NULL) - 60);
	gnutls_x509_crt_set_expiration_time(crt, time(NULL) + 3600);
	gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "test", 4);
	gnutls_x509_crt_set_key(crt, key);
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_certificate_allocate_credentials(&srv.cred), 0);
	assert_int_equal(gnutls_certificate_set_x509_key(srv.cred, &crt, 1, key), 0);

	/* The pin: SHA-256 of the SubjectPublicKeyInfo (DER), in base64. */
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_x509(pub, crt, 0), 0);
	assert_int_equal(gnutls_pubkey_export(pub, GNUTLS_X509_FMT_DER, der, &der_len), 0);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, der, der_len, digest), 0);
	d.data = digest;
	d.size = sizeof(digest);
	assert_int_equal(gnutls_base64_encode2(&d, &b64), 0);
	snprintf(srv.pin, sizeof(srv.pin), "sha256//%.*s", (int)b64.size, b64.data);
	gnutls_free(b64.data);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static int setup(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);

	(void)state;
	/* A client that refuses the key leaves the server writing to a closed socket. */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&srv.fake.lock, NULL);
	make_identity();
	srv.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(srv.listen_fd >= 0);
	assert_int_equal(bind(srv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(srv.listen_fd, 16), 0);
	assert_int_equal(getsockname(srv.listen_fd, (struct sockaddr *)&sa, &slen), 0);
	srv.port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&srv.thread, NULL, server_thread, NULL), 0);
	snprintf(srv.dir, sizeof(srv.dir), "/tmp/vdc-test-proto.XXXXXX");
	assert_non_null(mkdtemp(srv.dir));
	return 0;
}

static int teardown(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;

	(void)state;
	shutdown(srv.listen_fd, SHUT_RDWR);
	close(srv.listen_fd);
	pthread_join(srv.thread, NULL);
	gnutls_certificate_free_credentials(srv.cred);
	free(srv.fake.body);
	free(srv.fake.got_body);
	vdc_remove_tree(srv.dir, &err);
	curl_global_cleanup();
	return 0;
}

/* A client of the test server as host `name`, with `pin`. */
static void client(struct vdc_proto *p, struct vdc_conn *l, const char *pin, const char *join)
{
	struct vdc_err err = VDC_ERR_INIT;
	char server[64];

	snprintf(server, sizeof(server), "127.0.0.1:%d", srv.port);
	assert_int_equal(vdc_proto_init(p, server, pin, "hv1", "hva", srv.dir, join, &err), 0);
	/* Handshakes under valgrind on a busy machine take their time. */
	p->connect_timeout_s = 60;
	assert_int_equal(vdc_conn_init(l, p, &err), 0);
	snprintf(p->host_token, sizeof(p->host_token), "%s", TOKEN_B);
}

static void client_release(struct vdc_proto *p, struct vdc_conn *l)
{
	vdc_conn_release(l);
	vdc_proto_release(p);
}

static void test_pin(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_proto p;
	struct vdc_conn l;
	json_t *j = NULL;
	int rc, before;

	(void)state;
	ANSWER(200, "{\"rev\": 3}");
	client(&p, &l, srv.pin, NULL);
	rc = vdc_proto_desired(&l, 0, 0, &j, &err);
	if (rc < 0)
		print_error("%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(json_integer_value(json_object_get(j, "rev")), 3);
	json_decref(j);
	client_release(&p, &l);

	/* The same server, another pin: refused before any request is sent. */
	before = srv.fake.requests;
	client(&p, &l, WRONG_PIN, NULL);
	rc = vdc_proto_desired(&l, 0, 0, &j, &err);
	assert_int_equal(rc, -EPERM);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "--pin"));
	assert_false(vdc_proto_transient(rc));
	assert_int_equal(srv.fake.requests, before);
	client_release(&p, &l);

	/* A list of pins passes when one of them matches. */
	{
		char pins[160];

		snprintf(pins, sizeof(pins), "%s;%s", WRONG_PIN, srv.pin);
		client(&p, &l, pins, NULL);
		assert_int_equal(vdc_proto_desired(&l, 0, 0, &j, &err), 0);
		json_decref(j);
		client_release(&p, &l);
	}
}

static void test_join(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf file = STRBUF_INIT;
	char path[128], dcpath[128], name[VDC_NAME_MAX + 1], pins[256];
	struct vdc_proto p;
	struct vdc_conn l;
	struct stat st;
	json_t *sent;
	int rc, before;

	(void)state;
	/* Without a saved token or a join token there is nothing to do. */
	client(&p, &l, srv.pin, NULL);
	rc = vdc_proto_ensure_token(&l, &err);
	assert_int_equal(rc, -ENOKEY);
	check_err(rc, &err);
	client_release(&p, &l);

	ANSWER(403, "{\"error\": \"wrong join token\"}");
	client(&p, &l, srv.pin, TOKEN_A);
	rc = vdc_proto_ensure_token(&l, &err);
	assert_int_equal(rc, -EACCES);
	check_err(rc, &err);
	ANSWER(409, "{\"error\": \"a host named hv1 has joined before\"}");
	rc = vdc_proto_ensure_token(&l, &err);
	assert_int_equal(rc, -EEXIST);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "rmdir /vdc/hosts/hv1"));
	ANSWER(200, "{\"name\": \"hv1\", \"token\": \"not a token\"}");
	rc = vdc_proto_ensure_token(&l, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	snprintf(path, sizeof(path), "%s/host.token", srv.dir);
	assert_int_not_equal(access(path, F_OK), 0);

	ANSWER(200, "{\"name\": \"hv1\", \"token\": \"" TOKEN_B "\"}");
	p.host_token[0] = '\0';
	assert_int_equal(vdc_proto_ensure_token(&l, &err), 0);
	assert_string_equal(p.host_token, TOKEN_B);
	assert_string_equal(srv.fake.method, "POST");
	assert_string_equal(srv.fake.path, "/v1/join");
	assert_string_equal(srv.fake.auth, "");
	sent = json_loads(srv.fake.got_body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(sent, "name")), "hv1");
	assert_string_equal(json_string_value(json_object_get(sent, "token")), TOKEN_A);
	assert_string_equal(json_string_value(json_object_get(sent, "kind")), "hva");
	json_decref(sent);
	/* Saved 0600, with the name it was made for. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(vdc_file_read(path, 100, &file, &err), 0);
	assert_string_equal(file.buf, TOKEN_B "\n");
	assert_int_equal(vdc_proto_saved_name(srv.dir, NULL, name, &err), 0);
	assert_string_equal(name, "hv1");
	client_release(&p, &l);

	/* A later start uses the saved token and does not join again. */
	before = srv.fake.requests;
	client(&p, &l, srv.pin, TOKEN_A);
	p.host_token[0] = '\0';
	assert_int_equal(vdc_proto_ensure_token(&l, &err), 0);
	assert_string_equal(p.host_token, TOKEN_B);
	assert_int_equal(srv.fake.requests, before);
	client_release(&p, &l);

	/* The data center is kept beside the token: this server's pin. */
	assert_false(vdc_proto_other_dc(srv.dir, srv.pin));
	assert_true(vdc_proto_other_dc(srv.dir, OTHER_PIN));
	assert_false(vdc_proto_other_dc(srv.dir, (snprintf(pins, sizeof(pins), "%s;%s", OTHER_PIN, srv.pin), pins)));

	/*
	 * A state folder that joined another data center (host.dc names
	 * another key): its token and name are not used here. Without a
	 * join token it says so and sends nothing; with one it joins anew,
	 * under the name given, and keeps this data center.
	 */
	snprintf(dcpath, sizeof(dcpath), "%s/host.dc", srv.dir);
	assert_int_equal(vdc_file_write_atomic(dcpath, OTHER_PIN "\n", strlen(OTHER_PIN) + 1, 0644, &err), 0);
	assert_int_equal(vdc_proto_saved_name(srv.dir, srv.pin, name, &err), -ENOENT);
	assert_int_equal(vdc_proto_saved_name(srv.dir, OTHER_PIN, name, &err), 0);
	before = srv.fake.requests;
	client(&p, &l, srv.pin, NULL);
	p.host_token[0] = '\0';
	rc = vdc_proto_ensure_token(&l, &err);
	assert_int_equal(rc, -ENOKEY);
	check_err(rc, &err);
	assert_int_equal(srv.fake.requests, before);
	client_release(&p, &l);
	ANSWER(200, "{\"name\": \"hv1\", \"token\": \"" TOKEN_A "\"}");
	client(&p, &l, srv.pin, TOKEN_B);
	p.host_token[0] = '\0';
	assert_int_equal(vdc_proto_ensure_token(&l, &err), 0);
	assert_string_equal(p.host_token, TOKEN_A);
	assert_string_equal(srv.fake.path, "/v1/join");
	assert_int_equal(srv.fake.requests, before + 1);
	client_release(&p, &l);
	assert_false(vdc_proto_other_dc(srv.dir, srv.pin));
	strbuf_reset(&file);
	assert_int_equal(vdc_file_read(path, 100, &file, &err), 0);
	assert_string_equal(file.buf, TOKEN_A "\n");
	strbuf_release(&file);
	unlink(path);
	unlink(dcpath);
}

static void test_desired(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_proto p;
	struct vdc_conn l;
	json_t *j = NULL;
	int rc;

	(void)state;
	client(&p, &l, srv.pin, NULL);
	ANSWER(200, "{\"rev\": 18}");
	assert_int_equal(vdc_proto_desired(&l, 17, 99, &j, &err), 0);
	json_decref(j);
	assert_string_equal(srv.fake.method, "GET");
	/* The wait is capped at the protocol's 30 s. */
	assert_string_equal(srv.fake.path, "/v1/hosts/hv1/desired?rev=17&wait=30");
	assert_string_equal(srv.fake.auth, "Bearer " TOKEN_B);

	ANSWER(200, "[1, 2]");
	rc = vdc_proto_desired(&l, 0, 0, &j, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	ANSWER(500, "{\"error\": \"Store is on fire.\"}");
	rc = vdc_proto_desired(&l, 0, 0, &j, &err);
	assert_int_equal(rc, -EIO);
	assert_true(vdc_proto_transient(rc));
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "status 500: Store is on fire"));
	ANSWER(403, "{\"error\": \"unknown token\"}");
	rc = vdc_proto_desired(&l, 0, 0, &j, &err);
	assert_int_equal(rc, -EACCES);
	check_err(rc, &err);
	ANSWER(404, "not json at all \x01\xff");
	rc = vdc_proto_desired(&l, 0, 0, &j, &err);
	assert_int_equal(rc, -ENOENT);
	check_err(rc, &err);
	client_release(&p, &l);
}

static void test_report_and_console(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_proto p;
	struct vdc_conn l;
	json_t *report = json_pack("{s:I, s:I}", "epoch", (json_int_t)1, "seq", (json_int_t)2);
	uint64_t have = 0;
	int rc;

	(void)state;
	client(&p, &l, srv.pin, NULL);
	ANSWER(200, "{\"ok\": true}");
	assert_int_equal(vdc_proto_report(&l, report, &err), 0);
	assert_string_equal(srv.fake.path, "/v1/hosts/hv1/report");
	assert_string_equal(srv.fake.got_body, "{\"epoch\":1,\"seq\":2}");
	json_decref(report);

	ANSWER(200, "{\"have\": 4100}");
	assert_int_equal(vdc_proto_console(&l, 12, 4096, "ab\0cd", 5, &have, &err), 0);
	assert_int_equal(have, 4100);
	assert_string_equal(srv.fake.path, "/v1/hosts/hv1/console/12?offset=4096");
	assert_int_equal(srv.fake.got_len, 5);
	assert_memory_equal(srv.fake.got_body, "ab\0cd", 5);
	/* An empty upload asks. */
	assert_int_equal(vdc_proto_console(&l, 12, 0, NULL, 0, &have, &err), 0);
	assert_int_equal(srv.fake.got_len, 0);
	ANSWER(200, "{\"have\": -1}");
	rc = vdc_proto_console(&l, 12, 0, NULL, 0, &have, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	rc = vdc_proto_console(&l, 12, 0, NULL, VDC_CONSOLE_CHUNK + 1, &have, &err);
	assert_int_equal(rc, -EFBIG);
	check_err(rc, &err);
	client_release(&p, &l);
}

/* An image of 3 blocks with a hole, and its checksum. */
static void make_image(char *buf, size_t len, char *sha)
{
	unsigned char d[32];
	int i;

	memset(buf, 0, len);
	memset(buf, 'a', 100);
	memset(buf + len - 10, 'z', 10);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, len, d);
	for (i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", d[i]);
}

static int open_tmp(char *path)
{
	snprintf(path, 128, "%s/img.XXXXXX", srv.dir);
	return mkstemp(path);
}

static void test_image(void **state)
{
	static char img[3 * 65536];
	struct vdc_err err = VDC_ERR_INIT;
	struct strbuf got = STRBUF_INIT;
	char sha[65], header[128], path[128];
	struct vdc_proto p;
	struct vdc_conn l;
	struct stat st;
	uint64_t size = 0;
	int fd, rc;

	(void)state;
	make_image(img, sizeof(img), sha);
	snprintf(header, sizeof(header), "X-Vdc-Sha256: %s", sha);
	client(&p, &l, srv.pin, NULL);

	fake_answer(200, img, sizeof(img), header);
	fd = open_tmp(path);
	rc = vdc_proto_image(&l, "tiny", sha, sizeof(img), fd, &size, &err);
	if (rc < 0)
		print_error("%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_string_equal(srv.fake.path, "/v1/hosts/hv1/images/tiny");
	assert_int_equal(size, sizeof(img));
	close(fd);
	assert_int_equal(vdc_file_read(path, sizeof(img), &got, &err), 0);
	assert_int_equal(got.len, sizeof(img));
	assert_memory_equal(got.buf, img, sizeof(img));
	/* The zeros in the middle became a hole. */
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 < sizeof(img));
	unlink(path);
	strbuf_release(&got);

	/* One byte changed: the checksum catches it. */
	img[5] = 'b';
	fake_answer(200, img, sizeof(img), header);
	fd = open_tmp(path);
	rc = vdc_proto_image(&l, "tiny", sha, 0, fd, &size, &err);
	assert_int_equal(rc, -EBADMSG);
	check_err(rc, &err);
	close(fd);
	unlink(path);
	img[5] = 'a';

	/* The server says another checksum: the image changed after it was linked. */
	fake_answer(200, img, sizeof(img), "X-Vdc-Sha256: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	fd = open_tmp(path);
	rc = vdc_proto_image(&l, "tiny", sha, 0, fd, &size, &err);
	assert_int_equal(rc, -EBADMSG);
	check_err(rc, &err);
	assert_non_null(strstr(err.msg, "changed"));
	close(fd);
	unlink(path);

	/* Longer than the desired state said. */
	fake_answer(200, img, sizeof(img), header);
	fd = open_tmp(path);
	rc = vdc_proto_image(&l, "tiny", sha, sizeof(img) - 1, fd, &size, &err);
	assert_int_equal(rc, -EBADMSG);
	check_err(rc, &err);
	close(fd);
	unlink(path);

	ANSWER(404, "{\"error\": \"no such image\"}");
	fd = open_tmp(path);
	rc = vdc_proto_image(&l, "tiny", sha, 0, fd, &size, &err);
	assert_int_equal(rc, -ENOENT);
	check_err(rc, &err);
	/* The error body is not written to the image file. */
	assert_int_equal(lseek(fd, 0, SEEK_END), 0);
	close(fd);
	unlink(path);

	rc = vdc_proto_image(&l, "../etc", sha, 0, -1, &size, &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	client_release(&p, &l);
}

static void test_unreachable(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);
	struct vdc_proto p;
	struct vdc_conn l;
	char server[64];
	json_t *j;
	int fd, rc;

	(void)state;
	/* A port that was free a moment ago: nothing listens there. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
	close(fd);
	snprintf(server, sizeof(server), "127.0.0.1:%d", ntohs(sa.sin_port));
	assert_int_equal(vdc_proto_init(&p, server, srv.pin, "hv1", "hva", srv.dir, NULL, &err), 0);
	assert_int_equal(vdc_conn_init(&l, &p, &err), 0);
	rc = vdc_proto_desired(&l, 0, 0, &j, &err);
	assert_int_equal(rc, -ECONNREFUSED);
	assert_true(vdc_proto_transient(rc));
	check_err(rc, &err);
	client_release(&p, &l);
}

struct abort_arg {
	struct vdc_proto *p;
};

static void *abort_soon(void *arg)
{
	struct abort_arg *a = arg;

	usleep(300 * 1000);
	vdc_proto_abort(a->p);
	return NULL;
}

static void test_abort(void **state)
{
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_proto p;
	struct vdc_conn l;
	struct abort_arg a = { &p };
	struct timespec t0, t1;
	pthread_t t;
	json_t *j;
	int rc;

	(void)state;
	client(&p, &l, srv.pin, NULL);
	pthread_mutex_lock(&srv.fake.lock);
	srv.fake.hang = true;
	pthread_mutex_unlock(&srv.fake.lock);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&t, NULL, abort_soon, &a);
	rc = vdc_proto_desired(&l, 1, 25, &j, &err);
	pthread_join(t, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(rc, -ECANCELED);
	check_err(rc, &err);
	/* Well before the server lets go (10 s): the progress callback sees it within a second. */
	{
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;

		if (ms >= 5000)
			print_error("cancelling took %ld ms\n", ms);
		assert_true(ms < 5000);
	}
	rc = vdc_proto_report(&l, NULL, &err);
	assert_true(rc < 0);
	pthread_mutex_lock(&srv.fake.lock);
	srv.fake.hang = false;
	pthread_mutex_unlock(&srv.fake.lock);
	client_release(&p, &l);
}

static void test_checks(void **state)
{
	static const char *const bad_servers[] = {
		"", "host", ":7443", "host:0", "host:65536", "host:x", "ho st:1", "[::1:7443",
		"[]:1", "a/b:1", "[::1]x:1",
	};
	static const char *const good_servers[] = { "192.0.2.1:7443", "vdc.example:1", "[2001:db8::1]:7443" };
	struct vdc_err err = VDC_ERR_INIT;
	char *url = NULL;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(bad_servers) / sizeof(bad_servers[0]); i++) {
		rc = vdc_server_parse(bad_servers[i], &url, &err);
		if (rc != -EINVAL)
			print_error("server '%s'\n", bad_servers[i]);
		assert_int_equal(rc, -EINVAL);
		check_err(rc, &err);
	}
	for (i = 0; i < sizeof(good_servers) / sizeof(good_servers[0]); i++) {
		assert_int_equal(vdc_server_parse(good_servers[i], &url, &err), 0);
		assert_true(strncmp(url, "https://", 8) == 0);
		assert_string_equal(url + 8, good_servers[i]);
		free(url);
	}
	assert_int_equal(vdc_pin_check(srv.pin, &err), 0);
	assert_int_equal(vdc_pin_check(WRONG_PIN ";" WRONG_PIN, &err), 0);
	rc = vdc_pin_check("sha256//abc", &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	rc = vdc_pin_check("sha1//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	rc = vdc_pin_check(WRONG_PIN ";", &err);
	assert_int_equal(rc, -EINVAL);
	rc = vdc_pin_check("sha256//!!!!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &err);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(vdc_token_check(TOKEN_B, &err), 0);
	rc = vdc_token_check(TOKEN_B "0", &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
	rc = vdc_token_check("g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &err);
	assert_int_equal(rc, -EINVAL);
	check_err(rc, &err);
}

static void options_usage(FILE *f)
{
	(void)f;
}

static int options_none_ours(int c, void *opts)
{
	(void)c;
	(void)opts;
	return VDC_AGENT_OPTION_NOT_OURS;
}

/* Parse "--handshake-timeout VALUE" (or nothing when NULL); the exit code or 0. */
static int parse_handshake(const char *value, struct vdc_agent_options *o)
{
	static const struct option long_options[] = { VDC_AGENT_LONG_OPTIONS, { NULL, 0, NULL, 0 } };
	const struct vdc_agent_program prog = {
		.name = "test", .version = "0", .default_statedir = "/nonexistent",
		.heartbeat_max = 60, .usage = options_usage, .long_options = long_options,
		.take_option = options_none_ours,
	};
	char a0[] = "test", a1[] = "--handshake-timeout", a2[32];
	char *argv[] = { a0, a1, a2, NULL };

	snprintf(a2, sizeof(a2), "%s", value ? value : "");
	optind = 0;
	return vdc_agent_options_parse(&prog, value ? 3 : 1, argv, NULL, o);
}

static void test_handshake_option(void **state)
{
	static const char *const bad[] = { "0", "16", "-1", "5s", "", "99999999999999999999" };
	struct vdc_agent_options o;
	struct vdc_proto p;
	struct vdc_err err = VDC_ERR_INIT;
	char server[64];
	size_t i;

	(void)state;
	assert_int_equal(parse_handshake(NULL, &o), 0);
	assert_int_equal(o.handshake_s, VDC_PROTO_HANDSHAKE_S);
	assert_int_equal(VDC_PROTO_HANDSHAKE_S, 5);
	assert_int_equal(parse_handshake("1", &o), 0);
	assert_int_equal(o.handshake_s, 1);
	assert_int_equal(parse_handshake("15", &o), 0);
	assert_int_equal(o.handshake_s, 15);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_handshake(bad[i], &o) != VDC_AGENT_EXIT_USAGE)
			fail_msg("--handshake-timeout '%s' was taken", bad[i]);
	}
	/* The option reaches the connection. */
	snprintf(server, sizeof(server), "127.0.0.1:%d", srv.port);
	assert_int_equal(parse_handshake("12", &o), 0);
	o.server = server;
	o.pin = srv.pin;
	assert_int_equal(vdc_agent_proto_init(&p, &o, "hv1", "hva", srv.dir, &err), 0);
	assert_int_equal(p.connect_timeout_s, 12);
	vdc_proto_release(&p);
}

/* The progress line of a fetch through the image cache while the image arrives, half of it sent. */
static void test_image_fetch_progress(void **state)
{
	static char img[4 * 65536];
	struct vdc_image_spec spec = { .present = true, .name = "tiny", .size = sizeof(img) };
	struct vdc_err err = VDC_ERR_INIT;
	struct vdc_image_cache c;
	char header[128], path[PATH_MAX], line[128] = "";
	struct vdc_proto p;
	struct vdc_conn l;
	int i;

	(void)state;
	make_image(img, sizeof(img), spec.sha256);
	snprintf(header, sizeof(header), "X-Vdc-Sha256: %s", spec.sha256);
	client(&p, &l, srv.pin, NULL);
	assert_int_equal(vdc_image_cache_init(&c, srv.dir, &p, NULL, NULL, &err), 0);
	assert_int_equal(vdc_image_cache_start(&c, &err), 0);
	fake_answer(200, img, sizeof(img), header);
	pthread_mutex_lock(&srv.fake.lock);
	srv.fake.stall_at = sizeof(img) / 2;
	srv.fake.stall = true;
	pthread_mutex_unlock(&srv.fake.lock);

	assert_int_equal(vdc_image_want(&c, &spec, path, &err), -EINPROGRESS);
	for (i = 0; i < 600 && strcmp(line, "fetching image tiny: 50% (128K of 256K)"); i++) {
		usleep(50 * 1000);
		vdc_image_fetch_progress(&c, &spec, line, sizeof(line));
	}
	assert_string_equal(line, "fetching image tiny: 50% (128K of 256K)");

	pthread_mutex_lock(&srv.fake.lock);
	srv.fake.stall = false;
	pthread_mutex_unlock(&srv.fake.lock);
	for (i = 0; i < 600 && vdc_image_want(&c, &spec, path, &err) == -EINPROGRESS; i++)
		usleep(50 * 1000);
	assert_int_equal(vdc_image_want(&c, &spec, path, &err), 0);
	vdc_image_cache_release(&c);
	client_release(&p, &l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_desired),
		cmocka_unit_test(test_report_and_console),
		cmocka_unit_test(test_image),
		cmocka_unit_test(test_image_fetch_progress),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_handshake_option),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
