/*
 * Checks shared by the fuzz targets of the hosts' reports: what a parser
 * lets through is what agent_doc.h promises.
 */
#ifndef VDC_TESTS_FUZZ_AGENT_REPORT_H
#define VDC_TESTS_FUZZ_AGENT_REPORT_H

#include <stdlib.h>
#include <string.h>

#include "agent_doc.h"
#include "validate.h"

/* Host text: one line of text, no tab, within the bound. */
static inline void fuzz_check_text(const char *t)
{
	size_t n = strlen(t);

	if (n > VDC_DOC_TEXT_MAX || vdc_text_check(t, n, false, NULL) < 0 || strchr(t, '\t'))
		abort();
}

/* A state word: 1 to VDC_DOC_WORD_MAX of [a-z-]. */
static inline void fuzz_check_word(const char *w)
{
	size_t n = strlen(w);

	if (n < 1 || n > VDC_DOC_WORD_MAX || strspn(w, "abcdefghijklmnopqrstuvwxyz-") != n)
		abort();
}

/* A fact: at most VDC_DOC_FACT_MAX of letters, digits and ._+~-. */
static inline void fuzz_check_fact(const char *f)
{
	size_t n = strlen(f);

	if (n > VDC_DOC_FACT_MAX ||
	    strspn(f, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+~-") != n)
		abort();
}

/* "" or a dotted quad that reads back as itself. */
static inline void fuzz_check_ipv4(const char *a)
{
	char again[VDC_IPV4_TEXT];
	uint32_t v;

	if (!*a)
		return;
	if (vdc_ipv4_parse(a, strlen(a), &v, NULL) < 0)
		abort();
	vdc_ipv4_format(v, again);
	if (strcmp(a, again))
		abort();
}

static inline void fuzz_check_vol(const struct vdc_doc_vol *v)
{
	if (v->id < 1)
		abort();
	fuzz_check_word(v->state);
	fuzz_check_text(v->err);
}

#endif
