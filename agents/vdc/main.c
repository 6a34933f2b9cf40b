/*
 * vdc: the data center's small terminal tools, `vdc top` and
 * `vdc console NAME` (docs/vdc.md). Like the agents a client of the
 * control plane, but one that speaks to it only through the mounted tree
 * ($VDC, default /vdc): whatever it does, a shell can do too.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "files.h"
#include "vdc.h"

static int usage(FILE *to)
{
	fprintf(to, "usage: vdc top                 a live view of hosts and instances\n"
		    "       vdc console NAME        the serial console of instance NAME (Ctrl-] leaves)\n"
		    "The tree is read at $VDC (now %s).\n", vdc_root());
	return to == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "top"))
		return vdc_top_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "console"))
		return vdc_console_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout);
	fprintf(stderr, "vdc: no command %s\n", argv[1]);
	return usage(stderr);
}
