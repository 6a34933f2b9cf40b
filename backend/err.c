#include <stdarg.h>
#include <stdio.h>

#include "err.h"

int vdc_err_set(struct vdc_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void vdc_err_clear(struct vdc_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
