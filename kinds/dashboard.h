/*
 * Layer: kinds, the topmost, beside metrics.h (whose object lists it
 * shares) and above history.h; the front end serves its text as
 * /vdc/run/dashboard.html (docs/HACKING.md, "Layers").
 *
 * /vdc/run/dashboard.html: one self-contained page of the data center
 * for one reader: hosts with bars of what is reserved of what they offer,
 * instances with their state and sparklines of the last hour (history.h),
 * volumes and the last events. Inline CSS and SVG only: no script, no
 * reference to anything outside the file; a meta refresh reloads it.
 *
 * Contract
 * --------
 * - The model's read lock is held; nothing else is taken (as metrics.h).
 * - `uid` sees what metrics.h says it sees, and the lines of run/events
 *   it sees. Every name and text is escaped for HTML (& < > " ').
 * - `now` (wall-clock seconds) is the page's time and the end of the
 *   sparklines' hour, so a test can render a fixed page.
 */
#ifndef VDC_DASHBOARD_H
#define VDC_DASHBOARD_H

#include <sys/types.h>
#include <time.h>

#include "model.h"

/* Seconds between reloads the page asks of the browser. */
#define VDC_DASHBOARD_REFRESH 10
/* Lines of run/events the page shows at most, the newest. */
#define VDC_DASHBOARD_EVENTS 20

void vdc_dashboard_render(uid_t uid, time_t now, struct strbuf *out);
/* `s` escaped for HTML text and attribute values. */
void vdc_html_escape(const char *s, size_t len, struct strbuf *out);

#endif
