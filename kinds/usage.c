/*
 * Usage figures as text files (usage.h has the contract): the agents'
 * last reported figures, read under the model's read lock, formatted
 * here so that instance.c, host.c and volume.c keep to their own jobs.
 */
#include <inttypes.h>

#include "disk.h"
#include "host.h"
#include "instance.h"
#include "place.h"
#include "usage.h"
#include "volume.h"

void vdc_usage_format_hundredths(int64_t v, unsigned decimals, struct strbuf *out)
{
	if (v < 0)
		return;
	if (decimals == 1) {
		int64_t tenths = (v + 5) / 10;

		strbuf_addf(out, "%" PRId64 ".%" PRId64, tenths / 10, tenths % 10);
	} else {
		strbuf_addf(out, "%" PRId64 ".%02" PRId64, v / 100, v % 100);
	}
}

void vdc_usage_format_ns(int64_t ns, struct strbuf *out)
{
	if (ns >= 0)
		vdc_usage_format_hundredths(ns / 10000000, 2, out);
}

void vdc_usage_format_kib(int64_t kib, struct strbuf *out)
{
	if (kib >= 0)
		strbuf_addf(out, "%" PRId64 "M", kib >> 10);
}

void vdc_usage_format_load(const int64_t load[3], struct strbuf *out)
{
	if (load[0] < 0 || load[1] < 0 || load[2] < 0)
		return;
	vdc_usage_format_hundredths(load[0], 2, out);
	strbuf_addch(out, ' ');
	vdc_usage_format_hundredths(load[1], 2, out);
	strbuf_addch(out, ' ');
	vdc_usage_format_hundredths(load[2], 2, out);
}

/*
 * The instance's figures (usage.h): read only while run/state says
 * running (or migrating: the guest runs on its source until it moved),
 * so a stopped guest's files are empty at once, not one report later.
 */
const struct vdc_usage *vdc_usage_of(const struct vdc_obj *inst)
{
	const struct vdc_seen *s;

	if (!vdc_instance_is(inst, VDC_ISTATE_RUNNING) && !vdc_instance_is(inst, VDC_ISTATE_MIGRATING))
		return NULL;
	s = vdc_seen_of(inst);
	return s ? &s->usage : NULL;
}

/* A count (bytes, seconds) as an integer line; nothing when not known. */
static void show_count(int64_t v, struct strbuf *out)
{
	if (v >= 0)
		strbuf_addf(out, "%" PRId64 "\n", v);
}

/* Ends a figure's line, when one was written. */
static void end_line(struct strbuf *out, size_t before)
{
	if (out->len > before)
		strbuf_addch(out, '\n');
}

void vdc_usage_show_cpu(const struct vdc_obj *inst, struct strbuf *out)
{
	const struct vdc_usage *u = vdc_usage_of(inst);
	size_t before = out->len;

	if (u)
		vdc_usage_format_hundredths(u->cpu, 1, out);
	end_line(out, before);
}

void vdc_usage_show_cpu_time(const struct vdc_obj *inst, struct strbuf *out)
{
	const struct vdc_usage *u = vdc_usage_of(inst);
	size_t before = out->len;

	if (u)
		vdc_usage_format_ns(u->cpu_time_ns, out);
	end_line(out, before);
}

void vdc_usage_show_memory_used(const struct vdc_obj *inst, struct strbuf *out)
{
	const struct vdc_usage *u = vdc_usage_of(inst);
	size_t before = out->len;

	if (u)
		vdc_usage_format_kib(u->memory_kib, out);
	end_line(out, before);
}

void vdc_usage_show_disk_read(const struct vdc_obj *inst, struct strbuf *out)
{
	const struct vdc_usage *u = vdc_usage_of(inst);

	if (u)
		show_count(u->disk_read, out);
}

void vdc_usage_show_disk_written(const struct vdc_obj *inst, struct strbuf *out)
{
	const struct vdc_usage *u = vdc_usage_of(inst);

	if (u)
		show_count(u->disk_written, out);
}

void vdc_usage_show_net_received(const struct vdc_obj *inst, struct strbuf *out)
{
	const struct vdc_usage *u = vdc_usage_of(inst);

	if (u)
		show_count(u->net_received, out);
}

void vdc_usage_show_net_sent(const struct vdc_obj *inst, struct strbuf *out)
{
	const struct vdc_usage *u = vdc_usage_of(inst);

	if (u)
		show_count(u->net_sent, out);
}

void vdc_usage_show_uptime(const struct vdc_obj *inst, struct strbuf *out)
{
	const struct vdc_usage *u = vdc_usage_of(inst);

	if (u)
		show_count(u->uptime, out);
}

/* The bytes its storage host holds for the disk; nothing for a disk on no storage host (a local one). */
void vdc_usage_show_disk_allocated(const struct vdc_obj *inst, struct strbuf *out)
{
	if (vdc_disk_host_name(inst)[0])
		strbuf_addf(out, "%" PRIu64 "\n", vdc_disk_block.allocated(inst));
}

/* A host's figures only while it is up: a silent host's would be old (host.c forgets them too). */
void vdc_usage_show_host_cpu(const struct vdc_obj *host, struct strbuf *out)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);
	size_t before = out->len;

	if (vdc_host_is_up(host))
		vdc_usage_format_hundredths(h->cpu_busy, 1, out);
	end_line(out, before);
}

void vdc_usage_show_host_load(const struct vdc_obj *host, struct strbuf *out)
{
	const struct vdc_host *h = vdc_host_of((struct vdc_obj *)host);
	size_t before = out->len;

	if (vdc_host_is_up(host))
		vdc_usage_format_load(h->load, out);
	end_line(out, before);
}

void vdc_usage_show_volume_allocated(const struct vdc_obj *vol, struct strbuf *out)
{
	if (vdc_volume_placed(vol))
		strbuf_addf(out, "%" PRIu64 "\n", vdc_volume_allocated(vol));
}
