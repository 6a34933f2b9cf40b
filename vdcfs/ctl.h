/*
 * An object's ctl file: the verbs written to it, one a line.
 *
 * Contract: ctl_run() is called with the model's write lock held, with the
 * bytes of one write(2) (or of a file renamed onto ctl). It checks them as
 * text, then runs each non-blank line's verb of n->kind in order (a line
 * is the verb, spaces, and its argument; trailing blanks are dropped) and
 * stops at the first that fails. Returns `size`, or a negative errno with
 * the sentence in `err` (an unknown verb's lists the kind's verbs); the
 * verbs before a failing one stay done.
 */
#ifndef VDCFS_CTL_H
#define VDCFS_CTL_H

#include <stddef.h>

#include "tree.h"

int ctl_run(const struct node *n, const char *data, size_t size, struct vdc_err *err);

#endif
