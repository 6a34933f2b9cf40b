/*
 * The agents' log: one line per event on standard error, with the time,
 * the program and a level, so that a supervisor (systemd, a test script)
 * keeps it. Lines are written whole with one write(2), so threads do not
 * interleave within a line.
 *
 *     2025-11-25T00:07:56.946Z vdc-hva: info: vdc-12: started
 */
#ifndef VDC_AGENT_LOG_H
#define VDC_AGENT_LOG_H

#include "err.h"

enum vdc_log_level { VDC_LOG_ERROR, VDC_LOG_WARN, VDC_LOG_INFO, VDC_LOG_DEBUG };

/* The program name in each line and the most detailed level written. */
void vdc_log_setup(const char *prog, enum vdc_log_level max);

void vdc_log(enum vdc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) vdc_log(VDC_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  vdc_log(VDC_LOG_WARN, __VA_ARGS__)
#define log_info(...)  vdc_log(VDC_LOG_INFO, __VA_ARGS__)
#define log_debug(...) vdc_log(VDC_LOG_DEBUG, __VA_ARGS__)

/*
 * Put a prefix before the sentence `err` holds: "PREFIX: SENTENCE", with
 * `code` as the errno; returns `code`. (vdc_err_set() with err->msg as
 * an argument would format the buffer into itself.) `err` may be NULL.
 */
int vdc_err_wrap(struct vdc_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
