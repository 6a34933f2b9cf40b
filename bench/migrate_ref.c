/*
 * bench/migrate_ref.c: the reference of bench/migrate.sh, libvirt's own
 * live migration of one domain from a small program, as the issue asks
 * ("virDomainMigrate from a small program"):
 *
 *     bench-migrate-ref SRC-URI DST-URI DOMAIN MIGRATE-URI
 *
 * connects to both libvirtds, migrates DOMAIN live with
 * VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE
 * (what vdc-hva asks, but client-driven rather than peer to peer), the
 * qemu stream to MIGRATE-URI (tcp://ADDRESS), and prints one line:
 *
 *     total_ms downtime_ms
 *
 * total: the wall time of the virDomainMigrate() call; downtime: libvirt's
 * VIR_DOMAIN_JOB_DOWNTIME of the completed job on the destination (-1
 * when libvirt does not give it). Exit 1 with libvirt's message on error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int fail(const char *what)
{
	const char *msg = virGetLastErrorMessage();

	fprintf(stderr, "bench-migrate-ref: %s: %s\n", what, msg ? msg : "unknown error");
	return 1;
}

int main(int argc, char **argv)
{
	virConnectPtr src, dst;
	virDomainPtr dom, moved;
	virTypedParameterPtr params = NULL;
	int nparams = 0, type = 0;
	unsigned long long downtime = 0;
	long long shown = -1;
	int64_t t0, t1;

	if (argc != 5) {
		fprintf(stderr, "usage: bench-migrate-ref SRC-URI DST-URI DOMAIN MIGRATE-URI\n");
		return 2;
	}
	src = virConnectOpen(argv[1]);
	if (!src)
		return fail(argv[1]);
	dst = virConnectOpen(argv[2]);
	if (!dst)
		return fail(argv[2]);
	dom = virDomainLookupByName(src, argv[3]);
	if (!dom)
		return fail(argv[3]);
	t0 = now_ms();
	moved = virDomainMigrate(dom, dst, VIR_MIGRATE_LIVE | VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE,
				 NULL, argv[4], 0);
	t1 = now_ms();
	if (!moved)
		return fail("virDomainMigrate");
	if (virDomainGetJobStats(moved, &type, &params, &nparams, VIR_DOMAIN_JOB_STATS_COMPLETED) == 0 &&
	    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DOWNTIME, &downtime) == 1)
		shown = (long long)downtime;
	virTypedParamsFree(params, nparams);
	printf("%" PRId64 " %lld\n", t1 - t0, shown);
	virDomainFree(moved);
	virDomainFree(dom);
	virConnectClose(dst);
	virConnectClose(src);
	return 0;
}
