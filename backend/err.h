/*
 * The one error protocol of vdcfs.
 *
 * Every fallible function returns 0 on success or a negative errno, and
 * fills a `struct vdc_err` with a sentence for a human: lower-case, what
 * failed and why, no final full stop. The FUSE boundary turns the errno
 * into the reply and the sentence into the object's run/err and the
 * events log; nothing below that boundary replies to the kernel.
 */
#ifndef VDC_ERR_H
#define VDC_ERR_H

#include <errno.h>

#define VDC_ERR_MSG_MAX 320

struct vdc_err {
	int code;                    /* negative errno, 0 when clear */
	char msg[VDC_ERR_MSG_MAX];   /* the sentence for run/err */
};

#define VDC_ERR_INIT { 0, "" }

/*
 * Record `code` (a negative errno) with a printf-style sentence and return
 * `code`, so a failure reads `return vdc_err_set(err, -EINVAL, "...")`.
 * `err` may be NULL when the caller does not want the sentence.
 */
int vdc_err_set(struct vdc_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Forget a recorded error. */
void vdc_err_clear(struct vdc_err *err);

#endif
