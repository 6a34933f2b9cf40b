/*
 * volread: read a LUN from start to end straight through libiscsi, the
 * yardstick for reading volumes/NAME/data (bench/volume.sh).
 *
 *   volread [-b BYTES] [-u USER -s SECRET] -I INITIATOR PORTAL IQN LUN
 *
 * One READ(16) of BYTES (default 1 MiB) at a time, as `dd bs=1M` reads
 * data; prints "bytes N seconds S bytes/s R".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

static void usage(void)
{
	fprintf(stderr, "usage: volread [-b BYTES] [-u USER -s SECRET] -I INITIATOR PORTAL IQN LUN\n");
	exit(2);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
	const char *initiator = NULL, *user = NULL, *secret = NULL;
	struct iscsi_context *ctx;
	struct scsi_readcapacity16 *cap;
	struct scsi_task *task;
	unsigned long bs = 1 << 20;
	uint64_t blocks, lba = 0, per, n, bytes = 0;
	uint32_t block_size;
	double t0, t;
	int c, lun;

	while ((c = getopt(argc, argv, "b:u:s:I:")) != -1) {
		switch (c) {
		case 'b': bs = strtoul(optarg, NULL, 0); break;
		case 'u': user = optarg; break;
		case 's': secret = optarg; break;
		case 'I': initiator = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 3 || !initiator || !bs)
		usage();
	lun = atoi(argv[optind + 2]);
	ctx = iscsi_create_context(initiator);
	if (!ctx) {
		fprintf(stderr, "volread: cannot make an iSCSI context\n");
		return 1;
	}
	iscsi_set_targetname(ctx, argv[optind + 1]);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE);
	if (user)
		iscsi_set_initiator_username_pwd(ctx, user, secret ? secret : "");
	if (iscsi_full_connect_sync(ctx, argv[optind], lun) < 0) {
		fprintf(stderr, "volread: cannot log in to %s at %s: %s\n", argv[optind + 1], argv[optind],
			iscsi_get_error(ctx));
		return 1;
	}
	task = iscsi_readcapacity16_sync(ctx, lun);
	cap = task && task->status == SCSI_STATUS_GOOD ? scsi_datain_unmarshall(task) : NULL;
	if (!cap) {
		fprintf(stderr, "volread: READ CAPACITY failed: %s\n", iscsi_get_error(ctx));
		return 1;
	}
	block_size = cap->block_length;
	blocks = cap->returned_lba + 1;
	scsi_free_scsi_task(task);
	per = bs / block_size ? bs / block_size : 1;
	t0 = now();
	while (lba < blocks) {
		n = blocks - lba < per ? blocks - lba : per;
		task = iscsi_read16_sync(ctx, lun, lba, (uint32_t)(n * block_size), (int)block_size,
					 0, 0, 0, 0, 0);
		if (!task || task->status != SCSI_STATUS_GOOD) {
			fprintf(stderr, "volread: READ at block %llu failed: %s\n", (unsigned long long)lba,
				iscsi_get_error(ctx));
			return 1;
		}
		scsi_free_scsi_task(task);
		bytes += n * block_size;
		lba += n;
	}
	t = now() - t0;
	printf("bytes %llu seconds %.3f bytes/s %.0f\n", (unsigned long long)bytes, t, (double)bytes / t);
	iscsi_logout_sync(ctx);
	iscsi_destroy_context(ctx);
	return 0;
}
