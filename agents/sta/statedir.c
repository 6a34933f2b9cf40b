/*
 * The layout of vdc-sta's state folder (docs/vdc-sta.md): where each
 * volume, restore counter and snapshot lives, and the temporary names a
 * copy is made under before it is renamed into place. Every thread that
 * touches those files names them through these.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "file.h"
#include "sta.h"

void sta_volume_path(const struct sta *s, uint64_t id, char *out)
{
	vdc_path(out, "%s/volumes/%" PRIu64 ".img", s->statedir, id);
}

void sta_restore_path(const struct sta *s, uint64_t id, char *out)
{
	vdc_path(out, "%s/volumes/%" PRIu64 ".restore", s->statedir, id);
}

void sta_snapshot_path(const struct sta *s, uint64_t id, char *out)
{
	vdc_path(out, "%s/snapshots/%" PRIu64 ".img", s->statedir, id);
}

void sta_snapshot_tmp_path(const struct sta *s, uint64_t id, char *out)
{
	vdc_path(out, "%s/snapshots/.%" PRIu64 ".img.tmp", s->statedir, id);
}

void sta_volume_tmp_path(const struct sta *s, uint64_t id, char *out)
{
	vdc_path(out, "%s/volumes/.%" PRIu64 ".img.tmp", s->statedir, id);
}

uint64_t sta_restore_done(const struct sta *s, uint64_t id)
{
	struct strbuf text = STRBUF_INIT;
	char path[PATH_MAX];
	uint64_t n = 0;

	sta_restore_path(s, id, path);
	if (vdc_file_read(path, 64, &text, NULL) == 0)
		n = strtoull(text.buf, NULL, 10);
	strbuf_release(&text);
	return n;
}
