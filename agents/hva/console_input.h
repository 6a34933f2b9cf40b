/*
 * Console input: what users write to instances/NAME/console reaches the
 * guests' serial ports (docs/agent-protocol.md, "Console input";
 * docs/vdc-hva.md, "Consoles").
 *
 * Two threads. The fetcher keeps one GET console-input long-poll waiting
 * and hands what it brings to the writer, with the pty of each guest's
 * first serial port, which it asks libvirt for (the domain XML makes the
 * port a pty that qemu also logs to console.log: domain_xml.c). The
 * writer, which never calls libvirt, holds each such pty open, raw and
 * non-blocking, and writes the keys there; it reads and
 * drops what comes back from the pty (the guest's output, which qemu has
 * logged already), so qemu never waits for a reader. A pty is let go when
 * it hangs up (the guest stopped); it is found again from the live
 * domain's XML at the next key. A domain with no pty serial port (an lxc
 * container) takes no input: its keys are dropped, logged once.
 *
 * Contract: hva_console_input_parse() is pure (unit tests, fuzz target);
 * start after libvirt is set up and the agent has its token; release
 * after the agent's core stopped (vdc_proto_abort ends the long-poll).
 */
#ifndef VDC_HVA_CONSOLE_INPUT_H
#define VDC_HVA_CONSOLE_INPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* A pty's path: /dev/pts/N. */
#define HVA_PTY_MAX 64
/* The most entries (instances) one answer may carry. */
#define HVA_CONSOLE_INPUT_ENTRIES_MAX 65536

/* Keys for one instance. */
struct hva_keys {
	uint64_t id;
	unsigned char *buf;
	size_t len;
};

/*
 * Parse an answer of GET console-input, {input: [{id, hex}]}
 * (backend/wire_doc.h), strictly: no other member, ids from 1 to
 * INT64_MAX and each once, hex of 2 to 2 * VDC_CONSOLE_INPUT_MAX
 * lowercase digits, at most HVA_CONSOLE_INPUT_ENTRIES_MAX entries. 0 with
 * `*out` (free with hva_keys_free) and `*n`, or -EINVAL with the sentence.
 */
int hva_console_input_parse(json_t *doc, struct hva_keys **out, size_t *n, struct vdc_err *err);
void hva_keys_free(struct hva_keys *k, size_t n);

/*
 * The pty of the first serial port in a live domain's XML
 * (<serial type='pty'> ... <source path='/dev/pts/N'/>), copied to `out`
 * (`size` bytes): 0, or -ENOENT when there is none under /dev/pts/.
 */
int hva_console_pty_of(const char *xml, char *out, size_t size);

struct hva;
struct hva_queued;
struct hva_tty;

struct hva_console_input {
	struct hva *h;
	int wake_fd;                  /* an eventfd: keys arrived, or stop */
	pthread_t fetcher, writer;
	bool started_fetcher, started_writer;

	pthread_mutex_t lock;         /* guards the three below */
	struct hva_queued *queue;     /* from the fetcher, for the writer */
	size_t n_queue;
	bool stop;

	/* The writer's own. */
	struct hva_tty *ttys;
	size_t n_ttys;
};

int hva_console_input_init(struct hva_console_input *c, struct hva *h, struct vdc_err *err);
int hva_console_input_start(struct hva_console_input *c, struct vdc_err *err);
void hva_console_input_release(struct hva_console_input *c);

#endif
