/*
 * vdc: a small program that reads and writes the mounted tree and
 * nothing else (docs/vdc.md). Each subcommand is a main of its own.
 */
#ifndef VDC_TOOL_H
#define VDC_TOOL_H

/* vdc console NAME (console.c) */
int vdc_console_main(int argc, char **argv);
/* vdc top (top.c) */
int vdc_top_main(int argc, char **argv);

#endif
