/*
 * Functions this project does not call, made compile errors (after git's
 * banned.h). Every source is compiled with `-include backend/banned.h`
 * (Makefile), so a call anywhere fails to build with an error naming the
 * function:
 *
 *     error: 'sorry_strcpy_is_a_banned_function' undeclared
 *
 * What to use instead (docs/HACKING.md):
 * - strcpy, strcat, strncpy, strncat, sprintf, vsprintf: snprintf, or a
 *   struct strbuf (strbuf.h), which never truncate silently;
 * - strtok: memchr and explicit lengths (it keeps hidden state);
 * - gmtime, localtime, ctime, asctime: the _r forms (thread-safe);
 * - system, popen: vdc_spawn (agents/common/process.h), an execve with an
 *   argv: nothing a user wrote ever reaches a shell;
 * - gets: nothing.
 *
 * The headers that declare them are included first, so that their
 * declarations are seen before the macros and later includes of them are
 * no-ops.
 */
#ifndef VDC_BANNED_H
#define VDC_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VDC_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(...) VDC_BANNED(strcpy)
#undef strcat
#define strcat(...) VDC_BANNED(strcat)
#undef strncpy
#define strncpy(...) VDC_BANNED(strncpy)
#undef strncat
#define strncat(...) VDC_BANNED(strncat)
#undef sprintf
#define sprintf(...) VDC_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) VDC_BANNED(vsprintf)
#undef strtok
#define strtok(...) VDC_BANNED(strtok)
#undef gets
#define gets(...) VDC_BANNED(gets)
#undef gmtime
#define gmtime(...) VDC_BANNED(gmtime)
#undef localtime
#define localtime(...) VDC_BANNED(localtime)
#undef ctime
#define ctime(...) VDC_BANNED(ctime)
#undef asctime
#define asctime(...) VDC_BANNED(asctime)
#undef system
#define system(...) VDC_BANNED(system)
#undef popen
#define popen(...) VDC_BANNED(popen)

#endif
