/*
 * Layer: the bottom, under the model; only model.c calls it.
 *
 * The events log on disk: the audit trail of run/events, kept in the state
 * folder so that it survives a restart of vdcfs (docs/durability.md).
 *
 * Contract
 * --------
 * - Two files in the state folder, both mode 0600: `events.log`, appended
 *   to, and `events.log.1`, the one before. When an append would take
 *   events.log past `max` bytes, it becomes events.log.1 (replacing the
 *   older one) and a new events.log starts: the log never holds more than
 *   2 * `max` bytes.
 * - One line an event: `UID ID TEXT\n`, UID the user the line is shown to
 *   (and root), ID the object it is about (0: the data center), TEXT the
 *   line as run/events shows it, without control bytes but tabs.
 * - An append is one write(2) to a file opened with O_APPEND, made under
 *   the model's write lock like the event itself; it reaches the disk with
 *   the page cache, or before the call returns with `sync_full`. A failure
 *   to append changes nothing in memory; vdc_eventlog_append says so once
 *   until an append works again.
 * - At open, a last line without its newline (a write cut short by a
 *   crash) and any line that does not parse are ignored, and the partial
 *   line is cut off the file so the next append starts a line of its own.
 */
#ifndef VDC_EVENTLOG_H
#define VDC_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Bytes of events.log before it is rotated: the log holds at most twice this. */
#define VDC_EVENTLOG_MAX (1024 * 1024)

/* Called for every line kept, oldest first; `text` is NUL-terminated. */
typedef void (*vdc_eventlog_line_fn)(void *ctx, uid_t uid, int64_t id, const char *text);

/*
 * Open the log in `dir` (making it if needed), hand every stored line to
 * `line`, and keep events.log open for appends. 0 or a negative errno with
 * the sentence in `err`.
 */
int vdc_eventlog_open(const char *dir, size_t max, bool sync_full, vdc_eventlog_line_fn line,
		      void *ctx, struct vdc_err *err);
/*
 * Append a line (rotating first when it would not fit). Returns 0, 1 when
 * it failed and this is the first failure since the last success (the
 * caller logs `err` then), or -1 on a failure already reported.
 */
int vdc_eventlog_append(uid_t uid, int64_t id, const char *text, struct vdc_err *err);
void vdc_eventlog_close(void);

#endif
