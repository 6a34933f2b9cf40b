/*
 * Unit tests for agents/common/core.c, the agent core vdc-hva and vdc-sta
 * share: the hand-over of desired states between the poller and the
 * worker (the newest wins, the older is freed), the kicks and the
 * worker's wait, the heartbeat both sides ask for, and stopping: the
 * agent's own waiters woken, and the core's poller and reporter threads
 * ending promptly while vdcfs is unreachable. The reporter numbers only
 * the reports the agent builds.
 *
 * Links the agents/common sources and backend/{strbuf,err,validate,map}.c, with
 * libcurl, jansson and gnutls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"
#include "core.h"
#include "unit.h"

/* A syntactically valid pin: nothing will be reached to check it against. */
#define PIN "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define JOIN_TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* What the fake agent saw of the core. */
struct fake {
	struct vdc_agent_core core;
	int freed;                    /* desired states freed by the core */
	int woken;                    /* ops->wake calls */
	uint64_t seqs[16];            /* the seq of each ops->report call */
	bool built[16];               /* whether that call built a report */
	int n_reports;
};

static void fake_free(void *d)
{
	struct fake *f = *(struct fake **)d;

	f->freed++;
	free(d);
}

/* A desired state of the fake agent: a pointer back to it, so that its free can count. */
static void *fake_desired(struct fake *f)
{
	struct fake **d = malloc(sizeof(*d));

	assert_non_null(d);
	*d = f;
	return d;
}

static void fake_wake(void *agent)
{
	struct fake *f = agent;

	f->woken++;
}

/*
 * Reports when kicked: the first turn builds nothing (its number must
 * come again), the others an empty object each.
 */
static int fake_report(void *agent, uint64_t seq, long *next, json_t **report)
{
	struct fake *f = agent;
	struct vdc_agent_core *c = &f->core;
	int i;

	*report = NULL;
	pthread_mutex_lock(&c->lock);
	while (!c->quit && !c->report_kick)
		pthread_cond_wait(&c->report_cond, &c->lock);
	if (c->quit) {
		pthread_mutex_unlock(&c->lock);
		return -ECANCELED;
	}
	c->report_kick = false;
	i = f->n_reports++;
	f->seqs[i] = seq;
	f->built[i] = i > 0;
	pthread_mutex_unlock(&c->lock);
	*next = vdc_agent_now_ms() + 60000;
	if (i > 0)
		*report = json_object();
	return 0;
}

static int fake_parse(json_t *json, void **d, struct vdc_agent_desired_info *info, struct vdc_err *err)
{
	(void)json;
	(void)d;
	(void)info;
	return vdc_err_set(err, -EINVAL, "the fake agent reads no desired state");
}

static const struct vdc_agent_core_ops fake_ops = {
	.entries = "things",
	.parse = fake_parse,
	.free_desired = fake_free,
	.report = fake_report,
	.wake = fake_wake,
};

static struct vdc_proto unused_proto;

static void fake_init(struct fake *f, struct vdc_proto *proto)
{
	memset(f, 0, sizeof(*f));
	vdc_agent_core_init(&f->core, &fake_ops, f, proto, "hv1", "/nonexistent");
}

/* The newest desired state waits for the worker; one it never took is freed. */
static void test_hand_over(void **state)
{
	const struct vdc_agent_desired_info one = { .rev = 1, .heartbeat = 7, .n = 2 };
	const struct vdc_agent_desired_info two = { .rev = 2, .heartbeat = 0, .n = 3 };
	struct fake f;
	void *d1, *d2;

	(void)state;
	fake_init(&f, &unused_proto);
	assert_null(vdc_agent_core_take(&f.core));
	d1 = fake_desired(&f);
	vdc_agent_core_hand_over(&f.core, d1, &one);
	assert_ptr_equal(f.core.pending, d1);
	assert_int_equal(f.core.server_heartbeat, 7);
	assert_true(f.core.worker_kick);
	d2 = fake_desired(&f);
	vdc_agent_core_hand_over(&f.core, d2, &two);
	assert_int_equal(f.freed, 1);
	assert_int_equal(f.core.server_heartbeat, 0);
	assert_ptr_equal(vdc_agent_core_take(&f.core), d2);
	assert_null(vdc_agent_core_take(&f.core));
	fake_free(d2);
	/* What is still pending when the agent ends is the core's to free. */
	vdc_agent_core_hand_over(&f.core, fake_desired(&f), &one);
	vdc_agent_core_release(&f.core);
	assert_null(f.core.pending);
	assert_int_equal(f.freed, 3);
}

/* A kick is taken once; a wait with a time ends at it; a stopped agent's worker stops. */
static void test_kicks_and_stop(void **state)
{
	struct fake f;
	long t0;

	(void)state;
	fake_init(&f, &unused_proto);
	vdc_agent_core_kick_worker(&f.core);
	assert_true(vdc_agent_core_worker_wait(&f.core, 0));
	assert_false(f.core.worker_kick);
	t0 = vdc_agent_now_ms();
	assert_true(vdc_agent_core_worker_wait(&f.core, t0 + 50));
	assert_true(vdc_agent_now_ms() - t0 >= 50);
	vdc_agent_core_kick_report(&f.core);
	assert_true(f.core.report_kick);
	/* Both at once, by a thread that holds the lock. */
	f.core.report_kick = false;
	pthread_mutex_lock(&f.core.lock);
	vdc_agent_core_kick_locked(&f.core, true, true);
	pthread_mutex_unlock(&f.core.lock);
	assert_true(f.core.report_kick);
	assert_true(vdc_agent_core_worker_wait(&f.core, 0));
	assert_false(vdc_agent_core_quitting(&f.core));
	vdc_agent_core_stop(&f.core);
	assert_true(vdc_agent_core_quitting(&f.core));
	assert_int_equal(f.woken, 1);
	assert_true(__atomic_load_n(&unused_proto.abort, __ATOMIC_RELAXED));
	vdc_agent_core_kick_worker(&f.core);
	assert_false(vdc_agent_core_worker_wait(&f.core, 0));
	unused_proto.abort = 0;
}

/* --heartbeat and vdcfs's wish: the shorter when both are said, else the one said. */
static void test_heartbeat(void **state)
{
	struct fake f;

	(void)state;
	fake_init(&f, &unused_proto);
	assert_int_equal(vdc_agent_core_heartbeat_s(&f.core, 5, false), 5);
	assert_int_equal(vdc_agent_core_heartbeat_s(&f.core, 5, true), 5);
	f.core.server_heartbeat = 3;
	assert_int_equal(vdc_agent_core_heartbeat_s(&f.core, 5, false), 3);
	assert_int_equal(vdc_agent_core_heartbeat_s(&f.core, 5, true), 3);
	f.core.server_heartbeat = 10;
	assert_int_equal(vdc_agent_core_heartbeat_s(&f.core, 5, false), 10);
	assert_int_equal(vdc_agent_core_heartbeat_s(&f.core, 5, true), 5);
}

/* Wait until the fake agent has been asked for `n` reports (at most 5 s). */
static void wait_reports(struct fake *f, int n)
{
	int i, got = 0;

	for (i = 0; i < 500; i++) {
		pthread_mutex_lock(&f->core.lock);
		got = f->n_reports;
		pthread_mutex_unlock(&f->core.lock);
		if (got >= n)
			return;
		usleep(10 * 1000);
	}
	fail_msg("the reporter was asked for %d reports, not %d", got, n);
}

/*
 * The core's poller and reporter against a port nothing listens on: the
 * poller naps between tries, the reporter's posts fail, and both end
 * within a second of vdc_agent_core_stop().
 */
static void test_threads_stop(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct vdc_err err = VDC_ERR_INIT;
	socklen_t slen = sizeof(sa);
	char server[64], dir[] = "/tmp/vdc-core-XXXXXX";
	struct vdc_proto proto;
	pthread_t poller, reporter;
	struct fake f;
	long t0;
	int fd;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
	close(fd);
	snprintf(server, sizeof(server), "127.0.0.1:%d", ntohs(sa.sin_port));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(vdc_proto_init(&proto, server, PIN, "hv1", "hva", dir, JOIN_TOKEN, &err), 0);
	fake_init(&f, &proto);

	assert_int_equal(pthread_create(&poller, NULL, vdc_agent_core_poller_thread, &f.core), 0);
	assert_int_equal(pthread_create(&reporter, NULL, vdc_agent_core_reporter_thread, &f.core), 0);
	vdc_agent_core_kick_report(&f.core);
	wait_reports(&f, 1);
	vdc_agent_core_kick_report(&f.core);
	wait_reports(&f, 2);
	vdc_agent_core_kick_report(&f.core);
	wait_reports(&f, 3);
	/* The first turn built nothing: its number came again. */
	assert_false(f.built[0]);
	assert_int_equal(f.seqs[0], 1);
	assert_int_equal(f.seqs[1], 1);
	assert_int_equal(f.seqs[2], 2);

	t0 = vdc_agent_now_ms();
	vdc_agent_core_stop(&f.core);
	pthread_join(poller, NULL);
	pthread_join(reporter, NULL);
	assert_true(vdc_agent_now_ms() - t0 < 1000);
	assert_int_equal(f.woken, 1);
	vdc_agent_core_release(&f.core);
	vdc_proto_release(&proto);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_over),
		cmocka_unit_test(test_kicks_and_stop),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_threads_stop),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
