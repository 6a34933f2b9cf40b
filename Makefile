# vdcfs: a plain Makefile with an explicit source list.
#
#   make              build vdcfs and the bench tools
#   make check        unit tests (cmocka) and integration tests (prove)
#   make unit         unit tests only
#   make asan         build into build-asan/ with ASan+UBSan and run the suite
#   make valgrind     run the unit tests and the integration suite under valgrind
#   make tsan         build into build-tsan/ with ThreadSanitizer and run the concurrency tests
#   make fuzz         build libFuzzer targets and run each briefly

CC      ?= cc
BUILD   ?= build
PKGS     = fuse3 sqlite3 libmicrohttpd gnutls jansson libiscsi
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wno-format-nonliteral -Wvla -Wpointer-arith
CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
           -DFUSE_USE_VERSION=314 -Ibackend -Ikinds $(shell pkg-config --cflags $(PKGS)) \
           -include backend/banned.h
ifdef WERROR
override CFLAGS += -Werror
endif
override LDLIBS += $(shell pkg-config --libs $(PKGS)) -lpthread

BACKEND_SRC = backend/err.c backend/strbuf.c backend/validate.c backend/map.c \
              backend/store.c backend/model.c \
              backend/scheduler.c backend/reconcile.c backend/tls.c backend/agentd.c backend/imagesum.c backend/agent_doc.c \
              backend/wire.c \
              backend/iscsi.c \
              backend/eventlog.c backend/counters.c
# The kinds (kinds/): each kind's table (KIND.c) beside its behaviour, and
# the one list of them (kinds.c); in libvdc.a, so the unit tests link no
# front end.
KINDS_SRC   = kinds/kinds.c kinds/instances.c kinds/instance.c kinds/images.c \
              kinds/volumes.c kinds/volume.c kinds/networks.c kinds/network.c kinds/nic_mac.c \
              kinds/security_groups.c kinds/ssh_keys.c kinds/hosts.c kinds/host.c \
              kinds/place.c kinds/quotas.c kinds/quota.c kinds/lun.c kinds/disk.c \
              kinds/migrate.c kinds/usage.c kinds/history.c kinds/metrics.c kinds/dashboard.c
# The front end: it holds no kind.
VDCFS_SRC   = vdcfs/main.c vdcfs/vdcfs.c vdcfs/namespace.c vdcfs/handle.c vdcfs/handle_iscsi.c vdcfs/handle_clone.c \
              vdcfs/notify.c vdcfs/ctl.c vdcfs/tree.c vdcfs/wgather.c
UNIT_TESTS  = test_validate test_strbuf test_scheduler test_model test_placement \
              test_volumes test_iscsi test_networks \
              test_quotas test_agent_doc test_kinds test_wire_roundtrip \
              test_disk_snapshots test_wgather test_migrate test_usage test_metrics
FUZZERS     = fuzz_rules fuzz_sshkey fuzz_size fuzz_text fuzz_cidr fuzz_link
AGENT_FUZZERS = fuzz_agent_join fuzz_agent_hva_report fuzz_agent_sta_report fuzz_agent_path
# The desired states as the agents read them (their own parsers).
DESIRED_FUZZERS = fuzz_hva_desired fuzz_sta_desired fuzz_hva_console_input
FUZZERS    += $(AGENT_FUZZERS) $(DESIRED_FUZZERS)

# The agents: agents/common/ is the protocol client (libcurl, jansson);
# agents/hva/ is vdc-hva (libvirt). They link the backend's small helpers
# (err, strbuf, validate, map) but never the model or the store.
AGENT_PKGS      = libcurl jansson gnutls
HVA_PKGS        = $(AGENT_PKGS) libvirt libnl-3.0 libnl-route-3.0 libnftables
AGENT_LIB_SRC   = backend/err.c backend/strbuf.c backend/validate.c backend/map.c
AGENT_COMMON_SRC = $(wildcard agents/common/*.c)
HVA_SRC         = $(wildcard agents/hva/*.c)
STA_SRC         = $(wildcard agents/sta/*.c)

# vdc (agents/vdc/): `vdc top` and `vdc console`, a client of the tree
# alone (ncurses); it links nothing of vdcfs or the agents.
VDC_SRC     = $(wildcard agents/vdc/*.c)
VDC_OBJ     = $(VDC_SRC:%.c=$(BUILD)/obj/%.o)

BACKEND_OBJ = $(BACKEND_SRC:%.c=$(BUILD)/obj/%.o)
KINDS_OBJ   = $(KINDS_SRC:%.c=$(BUILD)/obj/%.o)
VDCFS_OBJ   = $(VDCFS_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_OBJ   = $(AGENT_LIB_SRC:%.c=$(BUILD)/obj/%.o) $(AGENT_COMMON_SRC:%.c=$(BUILD)/obj/%.o)
HVA_OBJ     = $(HVA_SRC:%.c=$(BUILD)/obj/%.o)
STA_OBJ     = $(STA_SRC:%.c=$(BUILD)/obj/%.o)

all: $(BUILD)/vdcfs $(BUILD)/vdc-hva $(BUILD)/vdc-sta $(BUILD)/vdc $(BUILD)/mkinstances $(BUILD)/bench-scheduler \
     $(BUILD)/bench-placement $(BUILD)/bench-migrate-ref $(BUILD)/bench-metrics $(BUILD)/bench-fuse-floor

$(BUILD)/obj/%.o: %.c $(wildcard backend/*.h kinds/*.h vdcfs/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/agents/%.o: agents/%.c $(wildcard backend/*.h agents/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iagents/common $(shell pkg-config --cflags $(HVA_PKGS)) -c -o $@ $<

$(BUILD)/vdc-hva: $(HVA_OBJ) $(AGENT_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(HVA_PKGS)) -lpthread

$(BUILD)/obj/agents/vdc/%.o: agents/vdc/%.c $(wildcard agents/vdc/*.h) backend/banned.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags ncursesw) -c -o $@ $<

$(BUILD)/vdc: $(VDC_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs ncursesw) -lm

$(BUILD)/vdc-sta: $(STA_OBJ) $(AGENT_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(AGENT_PKGS)) -lpthread

# Unit tests of the agents (tests/unit/test_hva_*.c, test_agent_proto.c):
# each compiles the agent sources it tests, named below, instead of
# linking libvdc.a. `make unit-agents` runs them; UNIT_WRAP wraps each,
# e.g. UNIT_WRAP="valgrind -q --error-exitcode=99 --leak-check=full".
AGENT_UNIT_TESTS  = test_hva_xml test_hva_desired test_hva_seed test_agent_image \
                    test_hva_state test_agent_proto test_hva_fw test_agent_core test_hva_usage \
                    test_hva_console_input
AGENT_TEST_CFLAGS = -Iagents/common -Iagents/hva $(shell pkg-config --cflags $(HVA_PKGS))
AGENT_TEST_LIBS   = -lcmocka $(shell pkg-config --libs $(HVA_PKGS)) -lpthread
HVA_LIB_SRC       = $(filter-out agents/hva/main.c,$(HVA_SRC))

$(AGENT_UNIT_TESTS:%=$(BUILD)/%): $(BUILD)/%: tests/unit/%.c tests/unit/unit.h \
		tests/unit/golden.h $(AGENT_LIB_SRC) $(wildcard backend/*.h agents/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AGENT_TEST_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^) $(AGENT_TEST_LIBS)
$(BUILD)/test_hva_xml: agents/hva/domain_xml.c
$(BUILD)/test_hva_console_input: agents/hva/console_keys.c
$(BUILD)/test_hva_desired: agents/hva/desired.c agents/common/image.c agents/common/json_member.c agents/common/log.c
$(BUILD)/test_hva_seed: agents/hva/seed.c agents/common/process.c agents/hva/desired.c agents/common/image.c \
		agents/common/json_member.c agents/common/file.c agents/common/log.c
$(BUILD)/test_agent_image: $(AGENT_COMMON_SRC)
$(BUILD)/test_hva_state: $(HVA_LIB_SRC) $(AGENT_COMMON_SRC)
$(BUILD)/test_agent_proto: $(AGENT_COMMON_SRC)
$(BUILD)/test_agent_core: $(AGENT_COMMON_SRC)
$(BUILD)/test_hva_usage: agents/hva/usage_sample.c agents/hva/report_doc.c
$(BUILD)/test_hva_fw: agents/hva/firewall.c agents/hva/desired.c agents/common/image.c agents/common/json_member.c \
		agents/common/log.c

# vdc-sta's unit tests: the same rule, with agents/sta on the include path.
STA_UNIT_TESTS    = test_sta_tgt test_sta_desired test_sta_disk
STA_TEST_CFLAGS   = -Iagents/common -Iagents/sta $(shell pkg-config --cflags $(AGENT_PKGS))

$(STA_UNIT_TESTS:%=$(BUILD)/%): $(BUILD)/%: tests/unit/%.c tests/unit/unit.h \
		$(AGENT_LIB_SRC) $(wildcard backend/*.h agents/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STA_TEST_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c,$^) $(AGENT_TEST_LIBS)
$(BUILD)/test_sta_tgt: agents/sta/target_tgt.c agents/common/process.c agents/common/log.c
$(BUILD)/test_sta_desired: agents/sta/desired.c agents/common/image.c agents/common/json_member.c agents/common/log.c
$(BUILD)/test_sta_disk: agents/sta/disk.c agents/sta/copy.c agents/sta/statedir.c agents/sta/desired.c \
		$(AGENT_COMMON_SRC)

# vdc's unit tests: its pure part (view.c), no curses.
VDC_UNIT_TESTS    = test_vdc_view
$(BUILD)/test_vdc_view: tests/unit/test_vdc_view.c agents/vdc/view.c agents/vdc/view.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iagents/vdc $(LDFLAGS) -o $@ $(filter %.c,$^) -lcmocka -lm

unit-agents: $(AGENT_UNIT_TESTS:%=$(BUILD)/%) $(STA_UNIT_TESTS:%=$(BUILD)/%) $(VDC_UNIT_TESTS:%=$(BUILD)/%)
	@set -e; for t in $(AGENT_UNIT_TESTS) $(STA_UNIT_TESTS) $(VDC_UNIT_TESTS); do $(UNIT_WRAP) ./$(BUILD)/$$t; done

$(BUILD)/libvdc.a: $(BACKEND_OBJ) $(KINDS_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/vdcfs: $(VDCFS_OBJ) $(BUILD)/libvdc.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mkinstances: $(BUILD)/obj/bench/mkinstances.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# The mount-level tests' reader of one descriptor from several threads.
all: $(BUILD)/preadrace
$(BUILD)/preadrace: tests/integration/preadrace.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

$(BUILD)/bench-scheduler: $(BUILD)/obj/bench/scheduler.o $(BUILD)/libvdc.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/bench-placement: $(BUILD)/obj/bench/placement.o $(BUILD)/libvdc.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench-metrics: $(BUILD)/obj/bench/metrics.o $(BUILD)/libvdc.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# bench/migrate.sh's reference: libvirt's own live migration from a small program.
$(BUILD)/bench-migrate-ref: bench/migrate_ref.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags libvirt) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs libvirt)

# bench/fuse_floor.sh's floor: a FUSE file system that keeps no byte written.
$(BUILD)/bench-fuse-floor: bench/fuse_floor.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs fuse3) -lpthread

$(BUILD)/test_%: tests/unit/test_%.c tests/unit/unit.h $(BUILD)/libvdc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.a,$^) -lcmocka $(LDLIBS)

# The tests of the kinds use their real tables, from libvdc.a.
$(BUILD)/test_placement $(BUILD)/test_volumes $(BUILD)/test_networks $(BUILD)/test_quotas: tests/unit/unit_model.h
$(BUILD)/test_disk_snapshots $(BUILD)/test_migrate $(BUILD)/test_usage: tests/unit/unit_model.h
$(BUILD)/test_metrics: tests/unit/unit_model.h tests/unit/golden.h
# The front end's write gathering policy: pure, so built from its source.
$(BUILD)/test_wgather: tests/unit/test_wgather.c tests/unit/unit.h vdcfs/wgather.c vdcfs/wgather.h $(BUILD)/libvdc.a
	$(CC) $(CFLAGS) -Ivdcfs $(LDFLAGS) -o $@ $(filter %.c %.a,$^) -lcmocka $(LDLIBS)
# The round trips of the agents' documents: the kinds and wire.c on one side, the agents' parsers on the other.
$(BUILD)/test_wire_roundtrip: tests/unit/test_wire_roundtrip.c tests/unit/unit.h tests/unit/unit_model.h \
		agents/hva/desired.c agents/sta/desired.c agents/hva/report_doc.c agents/sta/report_doc.c agents/hva/console_keys.c \
		agents/common/json_member.c agents/common/log.c agents/common/image.c \
		$(BUILD)/libvdc.a $(wildcard agents/*/*.h)
	$(CC) $(CFLAGS) -Iagents -Iagents/common $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) -lcmocka $(LDLIBS)

unit: $(UNIT_TESTS:%=$(BUILD)/%) unit-agents
	@set -e; for t in $(UNIT_TESTS); do ./$(BUILD)/$$t; done

integration: all
	VDCFS=$(abspath $(BUILD)/vdcfs) VDC_HVA=$(abspath $(BUILD)/vdc-hva) \
	    VDC_STA=$(abspath $(BUILD)/vdc-sta) \
	    MKINSTANCES=$(abspath $(BUILD)/mkinstances) \
	    PREADRACE=$(abspath $(BUILD)/preadrace) \
	    prove --exec bash -j2 --timer tests/integration/*.t

check: unit integration

# The test guest image: build it and boot it under qemu (tests/image/).
guest-check:
	prove -v --exec bash tests/image/boot-check.sh

asan:
	$(MAKE) BUILD=build-asan CC=clang \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" check

# ThreadSanitizer: vdcfs built into build-tsan/ with clang, and the tests
# of concurrent requests on one descriptor (TSAN_TESTS) run against it
# (the storage agent of 61-shared-volume-reads is the plain build's); a
# data race ends vdcfs at once (halt_on_error) with status 66, which fails
# the test. libfuse and sqlite need no suppressions: none are used, and
# none may hide a report in vdcfs's own code.
TSAN_TESTS = tests/integration/61-shared-reads.t tests/integration/61-shared-volume-reads.t \
             tests/integration/63b-data-gather.t
.PHONY: tsan
tsan: $(BUILD)/vdc-sta $(BUILD)/vdc-hva
	$(MAKE) BUILD=build-tsan CC=clang \
	    CFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=thread" build-tsan/vdcfs build-tsan/preadrace
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
	    VDCFS=$(abspath build-tsan/vdcfs) PREADRACE=$(abspath build-tsan/preadrace) \
	    VDC_STA=$(abspath $(BUILD)/vdc-sta) VDC_HVA=$(abspath $(BUILD)/vdc-hva) \
	    prove --exec bash --timer $(TSAN_TESTS)

# Valgrind: every vdcfs and vdc-hva the integration tests start writes a
# log; the run fails when there is none or any reports an error or a
# definite leak. tests/valgrind.supp holds the known reports of
# libraries' own (libnftables's netlink padding in vdc-hva, a libfuse
# worker at exit in vdcfs), each matched only with no frame of ours. An agent under valgrind may miss a heartbeat of a second:
# hosts turn unknown after 20 s of silence here, not 4. Its TLS handshake
# with vdcfs takes 2 s of valgrind's time when idle, and more than the
# default 5 s on two cores busy with TCG guests, where every retry timed
# out in turn: the agents get --handshake-timeout 15 here.
VG_LOGS = $(abspath $(BUILD))/valgrind
valgrind: all $(UNIT_TESTS:%=$(BUILD)/%)
	@set -e; for t in $(UNIT_TESTS); do \
	    valgrind -q --error-exitcode=99 --leak-check=full ./$(BUILD)/$$t; done
	$(MAKE) unit-agents UNIT_WRAP="valgrind -q --error-exitcode=99 --leak-check=full"
	rm -rf $(VG_LOGS) && mkdir -p $(VG_LOGS)
	VDCFS_WRAP="valgrind --leak-check=full --suppressions=$(abspath tests/valgrind.supp) --error-exitcode=99 --log-file=$(VG_LOGS)/vdcfs.%p.log" \
	    VDC_HVA_WRAP="valgrind --leak-check=full --suppressions=$(abspath tests/valgrind.supp) --log-file=$(VG_LOGS)/vdc-hva.%p.log" \
	    VDC_STA_WRAP="valgrind --leak-check=full --log-file=$(VG_LOGS)/vdc-sta.%p.log" \
	    VDC_HVA_OPTS="--handshake-timeout 15" VDC_STA_OPTS="--handshake-timeout 15" \
	    VDC_HOST_TIMEOUT=20 VDC_TIMEOUT=60 VDC_WATCHDOG=600 $(MAKE) integration
	@ls $(VG_LOGS)/vdcfs.*.log $(VG_LOGS)/vdc-hva.*.log $(VG_LOGS)/vdc-sta.*.log > /dev/null
	@bad=$$(grep -lE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]' $(VG_LOGS)/*.log || true); \
	    for f in $$bad; do echo "== $$f"; cat "$$f"; done; test -z "$$bad"

# libFuzzer targets: each links the backend sources directly, built with clang.
# A target with seeds in tests/fuzz/seeds/TARGET/ starts from a copy of
# them in $(BUILD)/fuzz/TARGET.corpus (the JSON documents are not found
# from nothing: jansson is not instrumented).
FUZZ_CFLAGS = -std=gnu11 -g -O1 -D_GNU_SOURCE -Ibackend -fsanitize=fuzzer,address,undefined \
              -include backend/banned.h
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h backend/validate.c backend/err.c backend/strbuf.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

# The agent server's documents (backend/agent_doc.c) need jansson besides.
$(AGENT_FUZZERS:%=$(BUILD)/fuzz/%): $(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h \
		tests/fuzz/fuzz_agent_report.h backend/agent_doc.c backend/validate.c backend/err.c backend/strbuf.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(shell pkg-config --cflags jansson) -o $@ $(filter %.c,$^) \
	    $(shell pkg-config --libs jansson)

# The agents' desired-state parsers: their files, agents/common's JSON helpers and jansson.
$(BUILD)/fuzz/fuzz_hva_desired: agents/hva/desired.c agents/hva/firewall.c agents/common/image.c
$(BUILD)/fuzz/fuzz_sta_desired: agents/sta/desired.c agents/common/image.c
$(BUILD)/fuzz/fuzz_hva_console_input: agents/hva/console_keys.c
$(DESIRED_FUZZERS:%=$(BUILD)/fuzz/%): $(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h \
		agents/common/json_member.c agents/common/log.c backend/validate.c backend/err.c backend/strbuf.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -Iagents/common -Iagents/$(if $(findstring hva,$*),hva,sta) \
	    $(shell pkg-config --cflags jansson libnftables gnutls) -o $@ $(filter %.c,$^) \
	    $(shell pkg-config --libs jansson libnftables gnutls)

FUZZ_SECONDS ?= 10
fuzz: $(FUZZERS:%=$(BUILD)/fuzz/%)
	@set -e; for f in $(FUZZERS); do \
	    echo "fuzz: $$f ($(FUZZ_SECONDS)s)"; \
	    dict=; corpus=; case $$f in fuzz_agent_*|fuzz_*_desired|fuzz_hva_console_input) dict=-dict=tests/fuzz/fuzz_agent.dict;; esac; \
	    if [ -d tests/fuzz/seeds/$$f ]; then corpus=$(BUILD)/fuzz/$$f.corpus; \
	        mkdir -p $$corpus && cp tests/fuzz/seeds/$$f/* $$corpus/; fi; \
	    if ! ./$(BUILD)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $$dict $$corpus \
	        -artifact_prefix=$(BUILD)/fuzz/$$f- > $(BUILD)/fuzz/$$f.log 2>&1; then \
	        cat $(BUILD)/fuzz/$$f.log; echo "fuzz: $$f found a failure"; exit 1; fi; \
	    tail -n 1 $(BUILD)/fuzz/$$f.log; done

# Every program hosts/join names, the docs the units point to, and systemd
# units for the agents (systemd/, docs/install.md), so a host that
# reboots comes back into its data center.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
DOCDIR     ?= $(PREFIX)/share/doc/vdcfs
SYSTEMDDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,/etc/systemd/system)
BINDIR     ?= $(PREFIX)/bin
install: $(BUILD)/vdcfs $(BUILD)/vdc-hva $(BUILD)/vdc-sta $(BUILD)/vdc
	install -D -m 0755 $(BUILD)/vdcfs $(DESTDIR)$(SBINDIR)/vdcfs
	install -D -m 0755 $(BUILD)/vdc $(DESTDIR)$(BINDIR)/vdc
	install -D -m 0755 $(BUILD)/vdc-hva $(DESTDIR)$(SBINDIR)/vdc-hva
	install -D -m 0755 $(BUILD)/vdc-sta $(DESTDIR)$(SBINDIR)/vdc-sta
	install -d $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSTEMDDIR)
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	for u in vdc-hva vdc-sta; do \
	    sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/$$u.service.in \
	        > $(DESTDIR)$(SYSTEMDDIR)/$$u.service && chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$$u.service; done

# A report, never a failure: the dependency cycles of each component (from
# the objects' symbols) and the longest source files (tests/structure.py).
structure: all
	python3 tests/structure.py $(BUILD)

clean:
	rm -rf build build-asan build-tsan

.PHONY: structure all unit unit-agents integration check guest-check asan valgrind fuzz install clean
