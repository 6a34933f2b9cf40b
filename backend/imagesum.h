/*
 * Image checksums (imagesum.c): computed off the model's lock by a worker
 * thread, so that rendering a desired state or serving an image never
 * waits for one.
 *
 * Layer: beside the agent server, over the kinds.
 *
 * Contract
 * --------
 * - vdc_image_sum() is called with the model's lock held (read is
 *   enough). It fills *size and *qcow2 from the image's data file, and
 *   `hex` (65 bytes) with the sum of that very version when it is known,
 *   returning true; otherwise it asks the worker for it and returns false
 *   with `hex` empty. When the sum is ready, the worker bumps the revision
 *   of every host with an instance of the image, so long-polls wake.
 * - A write to the image makes a new version: its old sum no longer
 *   answers, and a sum in flight for an older version is discarded.
 * - vdc_image_sums_stop() (the model's lock not held) ends the worker and
 *   forgets every sum; the next vdc_image_sum() starts it again.
 */
#ifndef VDC_IMAGESUM_H
#define VDC_IMAGESUM_H

#include <stdbool.h>
#include <sys/types.h>

#include "model.h"

bool vdc_image_sum(const struct vdc_obj *image, char *hex, off_t *size, bool *qcow2);
void vdc_image_sums_stop(void);

#endif
