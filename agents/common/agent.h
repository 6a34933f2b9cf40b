/*
 * What vdc-hva and vdc-sta do alike around their own work: checking the
 * options both take, naming the host, preparing and locking the state
 * directory, the pidfile, the signals, joining vdcfs with backoff, and
 * the clocks their threads use. Each agent keeps its own options; what
 * its threads share at run time (the lock, the kicks, the long-poll and
 * report loops) is the agent core (core.h).
 *
 * The option helpers print their sentence on standard error, prefixed
 * with the program's name and followed by a pointer to --help, and return
 * VDC_AGENT_EXIT_USAGE; the others return 0 or a negative errno with a
 * sentence in `err`.
 */
#ifndef VDC_AGENT_AGENT_H
#define VDC_AGENT_AGENT_H

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"
#include "proto.h"

/* The exit code of a usage error (the operator asked for something wrong). */
#define VDC_AGENT_EXIT_USAGE 2

/* The longest wait between two long-polls while vdcfs does not answer. */
#define VDC_AGENT_BACKOFF_MAX_MS 30000L

/* What tells one agent from the other in the option helpers. */
struct vdc_agent_program {
	const char *name;              /* "vdc-hva": starts each sentence */
	const char *version;           /* for --version */
	const char *default_statedir;  /* --state when not given */
	unsigned heartbeat_max;        /* the longest --heartbeat, in seconds */
	void (*usage)(FILE *f);        /* the --help text */
	const struct option *long_options;   /* VDC_AGENT_LONG_OPTIONS, then the agent's own */
	/*
	 * Take the agent's own option `c` (its value in `optarg`) into
	 * `opts`: 0, a usage error, or VDC_AGENT_OPTION_NOT_OURS for one
	 * both agents take.
	 */
	int (*take_option)(int c, void *opts);
};

/* What an agent's take_option returns for an option that is not its own. */
#define VDC_AGENT_OPTION_NOT_OURS 1

/* The options both agents take (docs/vdc-hva.md, docs/vdc-sta.md). */
struct vdc_agent_options {
	const char *server, *pin, *token, *name, *statedir, *pidfile;
	unsigned heartbeat_s;          /* --heartbeat, 5 when not given */
	bool heartbeat_given;
	unsigned handshake_s;          /* --handshake-timeout, 5 when not given */
	int verbosity;                 /* how many -v */
};

/* getopt_long's values of the options in VDC_AGENT_LONG_OPTIONS; an agent's own start at VDC_AGENT_OPT_OWN. */
enum {
	VDC_AGENT_OPT_SERVER = 256, VDC_AGENT_OPT_PIN, VDC_AGENT_OPT_TOKEN, VDC_AGENT_OPT_NAME,
	VDC_AGENT_OPT_STATE, VDC_AGENT_OPT_HEARTBEAT, VDC_AGENT_OPT_PIDFILE, VDC_AGENT_OPT_VERSION,
	VDC_AGENT_OPT_HANDSHAKE,
	VDC_AGENT_OPT_OWN,
};

/* The entries of the long options both agents take, to begin an agent's `struct option` table. */
#define VDC_AGENT_LONG_OPTIONS \
	{ "server", required_argument, NULL, VDC_AGENT_OPT_SERVER }, \
	{ "pin", required_argument, NULL, VDC_AGENT_OPT_PIN }, \
	{ "token", required_argument, NULL, VDC_AGENT_OPT_TOKEN }, \
	{ "name", required_argument, NULL, VDC_AGENT_OPT_NAME }, \
	{ "state", required_argument, NULL, VDC_AGENT_OPT_STATE }, \
	{ "heartbeat", required_argument, NULL, VDC_AGENT_OPT_HEARTBEAT }, \
	{ "handshake-timeout", required_argument, NULL, VDC_AGENT_OPT_HANDSHAKE }, \
	{ "pidfile", required_argument, NULL, VDC_AGENT_OPT_PIDFILE }, \
	{ "foreground", no_argument, NULL, 'f' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, VDC_AGENT_OPT_VERSION }

/*
 * Parse argv: the options both agents take into `o` (set to their
 * defaults first), the agent's own through prog->take_option into
 * `opts` (which the caller has set to its defaults). 0; -1 when --help
 * or --version printed what was asked (the agent exits 0); else a usage
 * error: an unknown option, a missing value, a value out of range, or an
 * argument left over. What needs more than one option is the caller's
 * to check afterwards.
 */
int vdc_agent_options_parse(const struct vdc_agent_program *prog, int argc, char **argv,
			    void *opts, struct vdc_agent_options *o);

/* Print "PROG: SENTENCE" and where the options are listed; returns VDC_AGENT_EXIT_USAGE. */
int vdc_agent_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse the value of option `name` as an integer in [min, max]; 0 or a usage error. */
int vdc_agent_uint_option(const char *prog, const char *name, const char *arg, uint64_t min,
			  uint64_t max, uint64_t *out);

/*
 * Parse the value of option `name` as a size ("500G"), at least `min`
 * bytes (`min_text` says it the way an operator writes it, "64M"); 0 or a
 * usage error.
 */
int vdc_agent_size_option(const char *prog, const char *name, const char *arg, uint64_t min,
			  const char *min_text, uint64_t *out);

/* The options every agent needs: --server and --pin; 0 or a usage error. */
int vdc_agent_options_require(const char *prog, const struct vdc_agent_options *o);

/*
 * Check the values of the options both agents take: the server address,
 * the pin, the token and the name when given, and the state directory's
 * length. 0 or a usage error.
 */
int vdc_agent_options_check(const char *prog, const struct vdc_agent_options *o);
/* The state directory's part of it alone (an agent's --leave asks vdcfs nothing). */
int vdc_agent_statedir_check(const char *prog, const struct vdc_agent_options *o);

/*
 * The host's name, into `out` (VDC_NAME_MAX + 1 bytes): `given` (--name)
 * if set; else the name the state directory joined under in the data
 * center of `pin` (--pin; another data center's name does not count); else the short
 * host name with `suffix` (NULL: none; vdc-sta's "-sta", so the two
 * agents of one machine join under two names). A --name that contradicts
 * the joined one, or a host name that is not a vdcfs name, is a usage
 * error (printed; the code returned).
 */
int vdc_agent_name_pick(const char *prog, const char *statedir, const char *pin, const char *given,
			const char *suffix, char *out);

/*
 * This host's address toward `server` (ADDR:PORT, as --server), the one
 * its packets to vdcfs leave from, into `out` (IPv6 in brackets). Nothing
 * is sent: a UDP socket is connected and asked its address.
 */
int vdc_agent_local_addr(const char *server, char *out, size_t n, struct vdc_err *err);

/*
 * Make the state directory `given` (mode `mode`) and its folders
 * `subdirs` (NULL-terminated, same mode), write its absolute path to
 * `out` (PATH_MAX bytes) and lock it (STATEDIR/lock, flock), so that two
 * agents never share one: -EBUSY when another holds it. `*lock_fd` keeps
 * the lock for the agent's life.
 */
int vdc_agent_statedir_setup(const char *prog, const char *given, mode_t mode,
			     const char *const subdirs[], char *out, int *lock_fd,
			     struct vdc_err *err);

/* Write the agent's pid to `path`, atomically. */
int vdc_agent_pidfile_write(const char *path, struct vdc_err *err);

/*
 * Block SIGTERM, SIGINT and SIGHUP in the calling thread (every thread
 * started later inherits it, so only sigwait() takes them) and put them in
 * `sigs`; ignore SIGPIPE; set the umask to 077.
 */
void vdc_agent_signals_setup(sigset_t *sigs);

/* Wait for a signal of `sigs` other than SIGHUP (logged and ignored); returns it. */
int vdc_agent_signal_wait(sigset_t *sigs);

/*
 * Set up the agent's protocol client (and libcurl) from the options, for
 * host `name` of `kind` ("hva", "sta") with its state in `statedir`;
 * curl's trace is on from -vv.
 */
int vdc_agent_proto_init(struct vdc_proto *proto, const struct vdc_agent_options *o,
			 const char *name, const char *kind, const char *statedir,
			 struct vdc_err *err);

/*
 * Load the host token or join vdcfs, retrying with backoff while vdcfs is
 * unreachable; a signal of `sigs` stops the wait (-EINTR). -ENOKEY when
 * the host has not joined and no join token was given: that is the
 * operator's to fix, and is printed, like a usage error, on standard error.
 */
int vdc_agent_token_get(const char *prog, struct vdc_proto *proto, sigset_t *sigs,
			struct vdc_err *err);

/* The wait before retry number `failures` + 1: 1 s doubling, at most 32 s. */
long vdc_agent_backoff_ms(unsigned failures);

/* Make `c` a condition variable that times out on CLOCK_MONOTONIC. */
void vdc_agent_cond_init(pthread_cond_t *c);

/* CLOCK_MONOTONIC in milliseconds. */
long vdc_agent_now_ms(void);

/* The wall clock in microseconds: an agent's epoch, to order its reports. */
uint64_t vdc_agent_epoch_us(void);

/*
 * The data center an agent serves: its id (the desired state's "dc",
 * which marks what the agent makes) kept in STATE/dc.id at each change,
 * so that --leave knows what is the data center's without asking vdcfs
 * (which may be gone). Saving logs a failure and returns it; loading
 * returns -ENOENT (err unset) when there is none.
 */
#define VDC_AGENT_DC_FILE "dc.id"
int vdc_agent_dc_save(const char *statedir, const char *dc);
int vdc_agent_dc_load(const char *statedir, struct strbuf *out, struct vdc_err *err);
/* Forget the join: host.token, host.name, host.dc and dc.id go. */
int vdc_agent_forget_join(const char *statedir, struct vdc_err *err);
/*
 * --leave: `remove` takes away what the agent made for the data center of
 * STATE/dc.id (not called when there is none), then the join is
 * forgotten. Logs what happened; the exit code (0, or 1 when something is
 * left: run it again).
 */
int vdc_agent_leave(const char *statedir, int (*remove)(void *agent, const char *dc, struct vdc_err *err),
		    void *agent);

#endif
