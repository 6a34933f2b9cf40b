/*
 * Image checksums for the agent server: the SHA-256 of each image's data,
 * remembered per version of its file (device, inode, size, mtime) and
 * computed by one worker thread, never under the model's lock, so that no
 * write waits for a sum (imagesum.h).
 *
 * Layer: beside the agent server (agentd.c, which serves images, and
 * wire.c, which names their sums in the desired state), over the kinds.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "imagesum.h"
#include "instance.h"

/*
 * Image checksums, remembered per image file version (device, inode,
 * size, mtime) and computed by one worker thread, never under the model's
 * lock (see vdc_image_sum()). sums_lock guards everything below; the worker
 * takes the model's lock only with sums_lock let go.
 */
struct sum_key {
	int64_t id;                 /* the image's; 0: none */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};
struct sum_entry {
	struct sum_key key;
	char hex[65];
};
struct sum_job {
	struct sum_key key;
	char *path;                 /* the image's data file */
};
static pthread_mutex_t sums_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sums_cond = PTHREAD_COND_INITIALIZER;
static struct sum_entry *sums;   /* the last sum of each image */
static size_t nsums;
static struct sum_job *sum_jobs; /* versions to hash, at most one an image */
static size_t nsum_jobs;
static struct sum_key sum_busy;  /* the version the worker hashes now */
static bool sum_discard;         /* a newer version of sum_busy's image was asked for */
static bool sum_stop, sum_running;
static pthread_t sum_thread;

static bool sum_key_equal(const struct sum_key *a, const struct sum_key *b)
{
	return a->id == b->id && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void sum_key_of(int64_t id, const struct stat *st, struct sum_key *k)
{
	memset(k, 0, sizeof(*k));
	k->id = id;
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	k->size = st->st_size;
	k->mtime = st->st_mtim;
}

static bool sum_discarded(void)
{
	bool d;

	pthread_mutex_lock(&sums_lock);
	d = sum_discard || sum_stop;
	pthread_mutex_unlock(&sums_lock);
	return d;
}

/* Feed `len` bytes to `h`: zeros for a hole, else what `fd` holds at `off`. 1, 0 (stop) or -1. */
static int sum_feed(gnutls_hash_hd_t h, int fd, off_t off, off_t len, bool hole, unsigned *n)
{
	static unsigned char zeros[1 << 16];
	unsigned char buf[1 << 16];

	while (len > 0) {
		size_t want = len > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)len;
		ssize_t r = want;

		if (hole)
			gnutls_hash(h, zeros, want);
		else if ((r = pread(fd, buf, want, off)) > 0)
			gnutls_hash(h, buf, (size_t)r);
		if (r <= 0)
			return r < 0 ? -1 : 0;   /* 0: the file shrank, which the caller sees */
		off += r;
		len -= r;
		/* Every 16 MiB, look whether the work is still wanted. */
		if (++*n % 256 == 0 && sum_discarded())
			return 0;
	}
	return 1;
}

/*
 * Hash the data file `path` as it is when opened into `hex`, with its
 * version in `key`: 1. 0 when a newer version was asked for meanwhile or
 * the file changed while it was read (the caller hashes it again), -1
 * when it cannot be read. Holes (SEEK_HOLE) are hashed as zeros without
 * reading them, so a sparse image costs the hash, not the reads.
 */
static int sum_compute(const char *path, int64_t id, struct sum_key *key, char *hex)
{
	unsigned char d[32];
	gnutls_hash_hd_t h;
	struct stat st;
	struct sum_key after;
	off_t off = 0, data, hole;
	unsigned n = 0;
	int rc = 1, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sum_key_of(id, &st, key);
	gnutls_hash_init(&h, GNUTLS_DIG_SHA256);
	while (rc == 1 && off < st.st_size) {
		data = lseek(fd, off, SEEK_DATA);
		if (data < 0)
			data = errno == ENXIO ? st.st_size : off;   /* no more data, or no SEEK_DATA here */
		if (data > st.st_size)
			data = st.st_size;
		hole = data < st.st_size ? lseek(fd, data, SEEK_HOLE) : st.st_size;
		if (hole <= data || hole > st.st_size)
			hole = st.st_size;
		rc = sum_feed(h, fd, off, data - off, true, &n);
		if (rc == 1)
			rc = sum_feed(h, fd, data, hole - data, false, &n);
		off = hole;
	}
	gnutls_hash_deinit(h, d);
	if (rc < 0 || fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	sum_key_of(id, &st, &after);
	if (rc == 0 || !sum_key_equal(key, &after))
		return 0;
	vdc_hex(d, sizeof(d), hex);
	return 1;
}

/*
 * A sum is ready: every host with an instance of image `id` gets a new
 * revision, so its long-poll wakes and its desired state carries it; so
 * does every storage host (one may be making a disk from the image:
 * a few extra revisions are cheaper than finding which one).
 */
static void sum_announce(int64_t id)
{
	const struct vdc_kind *hk = vdc_hosts_kind();
	const struct vdc_map *hosts = hk ? vdc_kind_objects(hk) : NULL;
	struct vdc_map_entry *e;
	size_t b;

	vdc_model_wrlock();
	for (e = hosts ? vdc_map_first(hosts, &b) : NULL; e; e = vdc_map_next(hosts, e, &b)) {
		struct vdc_obj *host = e->value;
		unsigned i;

		if (vdc_host_of(host)->role == VDC_ROLE_STA) {
			vdc_host_bump(host);
			continue;
		}
		for (i = 0; i < host->rel[VDC_HOST_INSTANCES].n; i++) {
			struct vdc_obj *inst = vdc_link_target(host->rel[VDC_HOST_INSTANCES].links[i]);
			struct vdc_link *l = inst ? inst->attrs[VDC_INSTANCE_IMAGE].link : NULL;
			struct vdc_obj *img = l ? vdc_link_target(l) : NULL;

			if (img && img->id == id) {
				vdc_host_bump(host);
				break;
			}
		}
	}
	vdc_model_flush();
	vdc_model_unlock();
}

/* The worker: takes the versions asked for, oldest first, one at a time. */
static void *sum_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sums_lock);
	while (!sum_stop) {
		struct sum_job job;
		struct sum_key key;
		char hex[65];
		size_t i;
		int rc;

		if (!nsum_jobs) {
			pthread_cond_wait(&sums_cond, &sums_lock);
			continue;
		}
		job = sum_jobs[0];
		memmove(sum_jobs, sum_jobs + 1, --nsum_jobs * sizeof(*sum_jobs));
		sum_busy = job.key;
		sum_discard = false;
		pthread_mutex_unlock(&sums_lock);
		rc = sum_compute(job.path, job.key.id, &key, hex);
		pthread_mutex_lock(&sums_lock);
		memset(&sum_busy, 0, sizeof(sum_busy));
		if (rc <= 0 || sum_discard || sum_stop) {
			/* The file changed under the hash: hash it again, unless a newer request is queued. */
			for (i = 0; i < nsum_jobs && sum_jobs[i].key.id != job.key.id; i++)
				;
			if (rc == 0 && !sum_stop && !sum_discard && i == nsum_jobs) {
				sum_jobs = xrealloc(sum_jobs, (nsum_jobs + 1) * sizeof(*sum_jobs));
				sum_jobs[nsum_jobs++] = job;
				continue;
			}
			free(job.path);
			continue;
		}
		free(job.path);
		for (i = 0; i < nsums && sums[i].key.id != key.id; i++)
			;
		if (i == nsums) {
			sums = xrealloc(sums, (nsums + 1) * sizeof(*sums));
			nsums++;
		}
		sums[i].key = key;
		memcpy(sums[i].hex, hex, 65);
		pthread_mutex_unlock(&sums_lock);
		sum_announce(key.id);
		pthread_mutex_lock(&sums_lock);
	}
	pthread_mutex_unlock(&sums_lock);
	return NULL;
}

/*
 * The checksum of the present version of `image`'s data into `hex_out`:
 * true when it is known. Otherwise false, and the worker is asked to
 * compute it (a newer version of the image discards the one it may be
 * hashing); the desired state then names the image without a checksum,
 * and a new revision follows once the sum is ready. `size` and `qcow2`
 * are filled either way. Cheap (a stat and a 4-byte read): it is called
 * under the model's lock, which a hash of a large image must never hold.
 */
bool vdc_image_sum(const struct vdc_obj *image, char *hex_out, off_t *size, bool *qcow2)
{
	__do_strbuf struct strbuf path = STRBUF_INIT;
	unsigned char magic[4];
	struct sum_key key;
	struct stat st;
	size_t i;
	int fd;

	hex_out[0] = 0;
	*size = 0;
	*qcow2 = false;
	vdc_obj_data_path(image, &path);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	*size = st.st_size;
	if (pread(fd, magic, 4, 0) == 4 && !memcmp(magic, "QFI\xfb", 4))
		*qcow2 = true;
	close(fd);
	sum_key_of(image->id, &st, &key);
	pthread_mutex_lock(&sums_lock);
	for (i = 0; i < nsums; i++) {
		if (sum_key_equal(&sums[i].key, &key)) {
			memcpy(hex_out, sums[i].hex, 65);
			pthread_mutex_unlock(&sums_lock);
			return true;
		}
	}
	if (sum_stop || (sum_busy.id == key.id && sum_key_equal(&sum_busy, &key))) {
		pthread_mutex_unlock(&sums_lock);
		return false;   /* under way */
	}
	if (sum_busy.id == key.id)
		sum_discard = true;
	for (i = 0; i < nsum_jobs && sum_jobs[i].key.id != key.id; i++)
		;
	if (i == nsum_jobs) {
		sum_jobs = xrealloc(sum_jobs, (nsum_jobs + 1) * sizeof(*sum_jobs));
		sum_jobs[nsum_jobs++].path = strbuf_detach(&path, NULL);
	}
	sum_jobs[i].key = key;
	if (!sum_running && pthread_create(&sum_thread, NULL, sum_worker, NULL) == 0)
		sum_running = true;
	pthread_cond_signal(&sums_cond);
	pthread_mutex_unlock(&sums_lock);
	return false;
}

/* Stop the worker (the model's lock not held) and forget every sum. */
void vdc_image_sums_stop(void)
{
	size_t i;

	pthread_mutex_lock(&sums_lock);
	sum_stop = true;
	pthread_cond_broadcast(&sums_cond);
	pthread_mutex_unlock(&sums_lock);
	if (sum_running)
		pthread_join(sum_thread, NULL);
	sum_running = false;
	for (i = 0; i < nsum_jobs; i++)
		free(sum_jobs[i].path);
	free(sum_jobs);
	sum_jobs = NULL;
	nsum_jobs = 0;
	free(sums);
	sums = NULL;
	nsums = 0;
	sum_stop = false;
}
