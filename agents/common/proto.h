/*
 * The agent side of the agent protocol (docs/agent-protocol.md): the one
 * client that vdc-hva and vdc-sta use to talk to vdcfs.
 *
 * Every exchange with vdcfs is one of the messages of `enum vdc_msg_type`,
 * a closed list: a new request is a new member here, in `vdc_msg_info` and
 * in the protocol document, never a free-form URL. Each is one HTTPS
 * request over TLS whose server key is pinned (curl's
 * CURLOPT_PINNEDPUBLICKEY, `sha256//BASE64`); no CA is consulted, so peer
 * and host verification are off and the pin is the whole of the trust.
 *
 * Two objects:
 *
 *  - `struct vdc_proto`, one per agent: the server, the pin, the host's
 *    name and its host token. Shared by every thread; the token is guarded
 *    by its lock because a re-join may replace it.
 *  - `struct vdc_conn`, one per thread: a curl handle (curl handles are not
 *    shared between threads) and a buffer for answers.
 *
 * Every function returns 0 or a negative errno with a sentence in `err`
 * (backend/err.h). The errno says what a caller may do next:
 *
 *   -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, -EIO   vdcfs is unreachable or
 *                                 failed; try again later (with backoff)
 *   -EPERM        the server's key does not match the pin
 *   -EACCES       403: the token was refused
 *   -ENOENT       404
 *   -EEXIST       409 (join: a host of that name has joined before)
 *   -EINVAL       400, or an answer that is not what the protocol says
 *   -EBADMSG      a downloaded image does not match its checksum
 */
#ifndef VDC_AGENT_PROTO_H
#define VDC_AGENT_PROTO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "strbuf.h"

/* The messages an agent sends; docs/agent-protocol.md describes each. */
enum vdc_msg_type {
	VDC_MSG_JOIN,        /* POST /v1/join: join token -> host token */
	VDC_MSG_DESIRED,     /* GET  /v1/hosts/NAME/desired?rev=R&wait=S */
	VDC_MSG_REPORT,      /* POST /v1/hosts/NAME/report: observed state */
	VDC_MSG_CONSOLE,     /* POST /v1/hosts/NAME/console/ID?offset=N */
	VDC_MSG_IMAGE,       /* GET  /v1/hosts/NAME/images/IMAGE */
	VDC_MSG_CONSOLE_INPUT,   /* GET /v1/hosts/NAME/console-input?wait=S */
	VDC_MSG_MAX
};

/* What the client knows of each message: for logs and timeouts. */
struct vdc_msg_info {
	const char *name;    /* "report" */
	const char *method;  /* "GET" or "POST" */
	bool auth;           /* carries Authorization: Bearer HOST-TOKEN */
	long timeout_s;      /* whole request; 0: none (the long-poll adds its wait) */
};

extern const struct vdc_msg_info vdc_msg_info[VDC_MSG_MAX];

/* Host and join tokens: 32 random bytes in hex. */
#define VDC_TOKEN_LEN 64
/* The longest wait a desired long-poll asks for (the server caps it at 30). */
#define VDC_DESIRED_WAIT_MAX 30
/* The most bytes one console upload carries. */
#define VDC_CONSOLE_CHUNK (64 * 1024)
/*
 * Seconds for the TCP connect and TLS handshake with vdcfs: the default,
 * and the most an agent's --handshake-timeout may ask (the shortest whole
 * request, 15 s, holds the handshake too).
 */
#define VDC_PROTO_HANDSHAKE_S 5
#define VDC_PROTO_HANDSHAKE_MAX_S 15

struct vdc_proto {
	char *base_url;      /* "https://ADDR:PORT" */
	char *pin;           /* "sha256//BASE64[;sha256//BASE64...]" */
	char *name;          /* this host's name */
	char *kind;          /* "hva" or "sta" */
	char *join_token;    /* NULL when only the saved host token may be used */
	char *token_path;    /* STATEDIR/host.token */
	char *name_path;     /* STATEDIR/host.name */
	char *dc_path;       /* STATEDIR/host.dc: the --pin of the data center joined */
	bool other_dc;       /* host.dc names another data center: join anew */
	bool verbose;        /* curl's own trace on stderr */
	long connect_timeout_s;   /* TCP and TLS handshake; vdc_proto_init sets VDC_PROTO_HANDSHAKE_S */
	int abort;           /* set by vdc_proto_abort(); read atomically */

	pthread_mutex_t lock;
	char host_token[VDC_TOKEN_LEN + 1];   /* "" until joined */
};

/*
 * One connection to vdcfs (a curl handle and its last answer), owned by
 * one thread: the poller, the reporter and the image and console uploads
 * each have their own. (Not the model's struct vdc_link, a symlink.)
 */
struct vdc_conn {
	struct vdc_proto *proto;
	void *curl;          /* CURL *, private */
	struct strbuf body;  /* the last answer's body */
	long status;         /* the last answer's HTTP status, 0 when none */
};

/*
 * Check `--server ADDR:PORT`: an IPv4 address, a host name or a bracketed
 * IPv6 address, and a port of 1-65535. Writes "https://ADDR:PORT" to
 * `url` (which the caller frees).
 */
int vdc_server_parse(const char *server, char **url, struct vdc_err *err);

/* Check `--pin`: one or more `sha256//BASE64` of 32 bytes, separated by ';'. */
int vdc_pin_check(const char *pin, struct vdc_err *err);

/* Check a token: exactly 64 hex digits. */
int vdc_token_check(const char *token, struct vdc_err *err);

/*
 * Set up `p`. Call curl_global_init() first. `statedir` must exist;
 * `join_token` may be NULL. Nothing is sent.
 */
int vdc_proto_init(struct vdc_proto *p, const char *server, const char *pin,
		   const char *name, const char *kind, const char *statedir,
		   const char *join_token, struct vdc_err *err);
void vdc_proto_release(struct vdc_proto *p);

/*
 * Whether the state directory joined another data center than the one of
 * `pin` (--pin): STATEDIR/host.dc, kept at each join, shares no key with
 * it. False when there is no host.dc (never joined, or joined by an agent
 * that did not keep it). The saved token and name of another data center
 * are never used: the join token joins this one.
 */
bool vdc_proto_other_dc(const char *statedir, const char *pin);

/*
 * The name a state directory joined under (STATEDIR/host.name), copied to
 * `out` (VDC_NAME_MAX + 1 bytes); -ENOENT when it has not joined, or
 * (`pin` not NULL) joined another data center than `pin`'s.
 */
int vdc_proto_saved_name(const char *statedir, const char *pin, char *out, struct vdc_err *err);

/*
 * Make sure the host holds a host token: load STATEDIR/host.token, or
 * join with the join token and save the answer (0600, written to a
 * temporary file and renamed, so a crash leaves the old file or the new
 * one). -ENOKEY when there is neither a saved token nor a join token.
 */
int vdc_proto_ensure_token(struct vdc_conn *l, struct vdc_err *err);

/*
 * Make every request in flight, and every later one, fail at once with
 * -ECANCELED: the agent is stopping and a long-poll must not hold it up.
 */
void vdc_proto_abort(struct vdc_proto *p);

int vdc_conn_init(struct vdc_conn *l, struct vdc_proto *p, struct vdc_err *err);
void vdc_conn_release(struct vdc_conn *l);

/*
 * GET desired, answering when the revision passes `rev` or after `wait_s`
 * seconds. `*out` is the parsed JSON object (the caller decrefs it).
 */
int vdc_proto_desired(struct vdc_conn *l, uint64_t rev, unsigned wait_s, json_t **out,
		      struct vdc_err *err);

/* POST a report (a JSON object the caller keeps). */
int vdc_proto_report(struct vdc_conn *l, json_t *report, struct vdc_err *err);

/*
 * POST console bytes `buf`/`len` of instance `id`, from byte `offset` of
 * its console log (len 0 only asks). `*have` is what vdcfs holds.
 */
int vdc_proto_console(struct vdc_conn *l, uint64_t id, uint64_t offset, const void *buf,
		      size_t len, uint64_t *have, struct vdc_err *err);

/*
 * GET console-input: the keystrokes written to the consoles of the
 * host's guests, answered as soon as there are any or after `wait_s`
 * seconds (at most VDC_DESIRED_WAIT_MAX). `*out` is the parsed JSON
 * object (the caller decrefs it; agents/hva/console_input.c reads it).
 */
int vdc_proto_console_input(struct vdc_conn *l, unsigned wait_s, json_t **out, struct vdc_err *err);

/*
 * GET image `image` into the file `fd` (from its current position).
 * `want_sha256` (64 lowercase hex digits) is checked against the bytes as
 * they arrive and against the X-Vdc-Sha256 header; `max_size` bounds the
 * body (0: no bound). -EBADMSG on a checksum or size mismatch. `*size`
 * gets the byte count written.
 */
int vdc_proto_image(struct vdc_conn *l, const char *image, const char *want_sha256,
		    uint64_t max_size, int fd, uint64_t *size, struct vdc_err *err);

/* Whether an error is worth retrying later (the server may come back). */
bool vdc_proto_transient(int code);

#endif
