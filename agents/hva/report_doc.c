/*
 * vdc-hva's report written from plain values (report_doc.h has the
 * contract); the members and their order are the protocol's.
 */
#include "desired.h"                  /* the live migration's members, until wire_doc.h has them */
#include "report_doc.h"
#include "wire_doc.h"

json_t *hva_report_volume_json(uint64_t id, const char *state, const char *err)
{
	return json_pack("{s:I, s:s, s:s}", VDC_WIRE_ID, (json_int_t)id,
			 VDC_WIRE_STATE, state,
			 VDC_WIRE_ERR, err);
}

json_t *hva_report_instance_json(uint64_t id, const char *domain, const char *state, const char *err,
				 uint64_t reboot, uint64_t reset, json_t *volumes)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:o}",
			 VDC_WIRE_ID, (json_int_t)id,
			 VDC_WIRE_DOMAIN, domain,
			 VDC_WIRE_STATE, state,
			 VDC_WIRE_ERR, err,
			 VDC_WIRE_IP, "",
			 VDC_WIRE_REBOOT, (json_int_t)reboot,
			 VDC_WIRE_RESET, (json_int_t)reset,
			 VDC_WIRE_VOLUMES, volumes);
}

void hva_report_instance_progress(json_t *inst, uint64_t migrated, const char *progress)
{
	if (!inst)
		return;
	if (migrated)
		json_object_set_new(inst, VDC_WIRE_MIGRATED, json_integer((json_int_t)migrated));
	if (progress && progress[0])
		json_object_set_new(inst, VDC_WIRE_PROGRESS, json_string(progress));
}

/* Member `key` of `o` set to `v` when `v` is known (not negative). */
static void set_figure(json_t *o, const char *key, int64_t v)
{
	if (v >= 0)
		json_object_set_new(o, key, json_integer((json_int_t)v));
}

void hva_report_instance_usage(json_t *inst, const struct hva_report_usage *u)
{
	json_t *o;

	if (!inst || !u)
		return;
	o = json_object();
	set_figure(o, VDC_WIRE_CPU, u->cpu);
	set_figure(o, VDC_WIRE_CPU_TIME_NS, u->cpu_time_ns);
	set_figure(o, VDC_WIRE_MEMORY_KIB, u->memory_kib);
	set_figure(o, VDC_WIRE_DISK_READ, u->disk_read);
	set_figure(o, VDC_WIRE_DISK_WRITTEN, u->disk_written);
	set_figure(o, VDC_WIRE_NET_RECEIVED, u->net_received);
	set_figure(o, VDC_WIRE_NET_SENT, u->net_sent);
	set_figure(o, VDC_WIRE_UPTIME, u->uptime);
	if (json_object_size(o))
		json_object_set_new(inst, VDC_WIRE_USAGE, o);
	else
		json_decref(o);
}

void hva_report_host_usage(json_t *report, int64_t cpu, const int64_t load[3])
{
	json_t *o;

	if (!report)
		return;
	o = json_object();
	set_figure(o, VDC_WIRE_CPU, cpu);
	if (load[0] >= 0 && load[1] >= 0 && load[2] >= 0)
		json_object_set_new(o, VDC_WIRE_LOAD, json_pack("[I, I, I]", (json_int_t)load[0],
								  (json_int_t)load[1], (json_int_t)load[2]));
	if (json_object_size(o))
		json_object_set_new(report, VDC_WIRE_USAGE, o);
	else
		json_decref(o);
}

json_t *hva_report_json(uint64_t epoch, uint64_t seq, uint64_t rev, const struct hva_report_facts *f,
			json_t *instances)
{
	return json_pack("{s:I, s:I, s:I, s:{s:i, s:I, s:s, s:s, s:s, s:s, s:s}, s:o}",
			 VDC_WIRE_EPOCH, (json_int_t)epoch,
			 VDC_WIRE_SEQ, (json_int_t)seq,
			 VDC_WIRE_REV, (json_int_t)rev,
			 VDC_WIRE_FACTS,
			 VDC_WIRE_CPUS, (int)f->cpus,
			 VDC_WIRE_MEMORY_MIB, (json_int_t)f->memory_mib,
			 VDC_WIRE_DRIVER, f->driver,
			 VDC_WIRE_VIRT, f->virt,
			 VDC_WIRE_LIBVIRT, f->libvirt,
			 VDC_WIRE_VERSION, f->version,
			 VDC_WIRE_UNDERLAY, f->underlay,
			 VDC_WIRE_INSTANCES, instances);
}
