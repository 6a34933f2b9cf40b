/*
 * The report vdc-hva sends, POST /v1/hosts/NAME/report
 * (docs/agent-protocol.md, "Report"), written from plain values with the
 * member names of backend/wire_doc.h. report.c gathers the values (the
 * worker's, libvirt's); these only write them, so that
 * tests/unit/test_wire_roundtrip.c hands what vdc-hva writes to vdcfs's
 * parser (backend/agent_doc.c) without libvirt.
 *
 * Each returns a new reference (NULL only when memory ran out); a json_t
 * passed in is taken (stolen), as json_pack's "o" does.
 */
#ifndef VDC_HVA_REPORT_DOC_H
#define VDC_HVA_REPORT_DOC_H

#include <stdint.h>

#include <jansson.h>

/* What the host says of itself. */
struct hva_report_facts {
	unsigned cpus;
	uint64_t memory_mib;
	const char *driver, *virt, *libvirt, *version;
	const char *underlay;                 /* "" or a dotted quad */
};

/* A volume of an instance: {id, state, err}. */
json_t *hva_report_volume_json(uint64_t id, const char *state, const char *err);

/* An instance: {id, domain, state, err, ip (always ""), reboot, reset, volumes}. */
json_t *hva_report_instance_json(uint64_t id, const char *domain, const char *state, const char *err,
				 uint64_t reboot, uint64_t reset, json_t *volumes);

/*
 * The members of long operations added to instance `inst`, only when
 * not their defaults (so every other report is as it was): "migrated"
 * (the last migrate seq carried out) when not 0, "progress" (of a live
 * migration, or of the fetch of the image a start waits for) when not
 * empty.
 */
void hva_report_instance_progress(json_t *inst, uint64_t migrated, const char *progress);

/*
 * A running instance's usage figures (docs/agent-protocol.md, "Usage"),
 * each -1 when not known (and then not sent): cpu in hundredths of a
 * percent of one host CPU, cpu_time_ns, memory_kib, bytes of all its
 * disks and nics, uptime in seconds.
 */
struct hva_report_usage {
	int64_t cpu, cpu_time_ns, memory_kib;
	int64_t disk_read, disk_written, net_received, net_sent;
	int64_t uptime;
};

/* Instance `inst` gets "usage" with the figures of `u` that are known (none known: no "usage"). */
void hva_report_instance_usage(json_t *inst, const struct hva_report_usage *u);

/*
 * The report `report` gets the host's "usage": {cpu} when `cpu` is not
 * -1, {load: [3 integers]} when the averages are known (hundredths).
 */
void hva_report_host_usage(json_t *report, int64_t cpu, const int64_t load[3]);

/* The report: {epoch, seq, rev, facts, instances}. */
json_t *hva_report_json(uint64_t epoch, uint64_t seq, uint64_t rev, const struct hva_report_facts *f,
			json_t *instances);

#endif
