#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "vdc-agent";
static enum vdc_log_level log_max = VDC_LOG_INFO;

static const char *const level_name[] = {
	[VDC_LOG_ERROR] = "error",
	[VDC_LOG_WARN] = "warning",
	[VDC_LOG_INFO] = "info",
	[VDC_LOG_DEBUG] = "debug",
};

int vdc_err_wrap(struct vdc_err *err, int code, const char *fmt, ...)
{
	char prefix[VDC_ERR_MSG_MAX], old[VDC_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return code;
	snprintf(old, sizeof(old), "%s", err->msg);
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	return vdc_err_set(err, code, "%s: %s", prefix, old);
}

void vdc_log_setup(const char *prog, enum vdc_log_level max)
{
	log_prog = prog;
	log_max = max;
}

void vdc_log(enum vdc_log_level level, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	if (level > log_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, log_prog, level_name[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* Best effort: a log that cannot be written has nowhere to complain. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
