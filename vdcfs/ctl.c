/*
 * The ctl verb parser: a write to an object's ctl split into lines, each
 * line's verb found in its kind's table and run (see ctl.h). The verbs
 * themselves belong to the kinds; this file knows none of them.
 */
#include <string.h>

#include "ctl.h"

/* Run the verbs in a write to ctl, one a line. */
int ctl_run(const struct node *n, const char *data, size_t size, struct vdc_err *err)
{
	const struct vdc_kind *k = n->kind;
	size_t pos = 0;
	int rc = vdc_text_check(data, size, true, err);

	if (rc < 0)
		return rc;
	while (pos < size) {
		const char *line = data + pos, *nl = memchr(line, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - line) : size - pos, vlen;
		unsigned i;

		pos += len + 1;
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		if (!len)
			continue;
		for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
			;
		for (i = 0; i < k->nverbs; i++)
			if (strlen(k->verbs[i].name) == vlen && !memcmp(k->verbs[i].name, line, vlen))
				break;
		if (i == k->nverbs) {
			__do_strbuf struct strbuf list = STRBUF_INIT;

			for (i = 0; i < k->nverbs; i++)
				strbuf_addf(&list, "%s%s", i ? ", " : "", k->verbs[i].usage);
			return vdc_err_set(err, -EINVAL, "'%.*s' is not a verb of %s; write one of: %s", (int)vlen,
					   line, k->name, list.buf);
		}
		while (vlen < len && line[vlen] == ' ')
			vlen++;
		rc = k->verbs[i].run(n->obj, line + vlen, len - vlen, err);
		if (rc < 0)
			return rc;
	}
	return (int)size;
}
