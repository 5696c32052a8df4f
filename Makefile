# cyris — build, test, install.   `make help` lists the targets.

VERSION   := 0.1.0
SOVERSION := 0

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/sbin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
COMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=

CC      ?= cc
SAN     ?= 0
FUZZ    ?= 0
# Objects of a sanitizer build never mix with a normal one; `make fuzz`
# builds with FUZZ=1 (clang, libFuzzer coverage) into build/fuzz.
O       := build/$(if $(filter 1,$(FUZZ)),fuzz,$(if $(filter 1,$(SAN)),san,default)$(if $(findstring clang,$(CC)),-clang))

# Every library the toolkit links; pkg-config gives the flags.
PKGS := libnl-3.0 libnl-route-3.0 libmnl libnftnl yaml-0.1 libvirt \
        libxml-2.0 libisofs-1 libssh libcurl libcrypto

# Debian packages to build, test and run everything (`make deps`).
DEB_BUILD := gcc clang make pkg-config libnl-3-dev libnl-route-3-dev \
        libmnl-dev libnftnl-dev libyaml-dev libvirt-dev libxml2-dev \
        libisofs-dev libssh-dev libcurl4-openssl-dev libssl-dev
DEB_TEST  := perl iproute2 nftables socat iputils-ping jq valgrind procps util-linux \
        binutils man-db
# per area, so that each stays one line to change
DEB_FW     :=
DEB_TOPO   := strace
DEB_VM     := libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils dnsmasq-base iptables busybox-static cpio xz-utils mmdebstrap e2fsprogs genisoimage libxml2-utils openssh-client
DEB_TUNNEL := openssh-server openssh-client
DEB_FUZZ   := libclang-rt-dev
DEB_PKGS  := $(DEB_BUILD) $(DEB_TEST) $(DEB_FW) $(DEB_TOPO) $(DEB_VM) $(DEB_TUNNEL) $(DEB_FUZZ)

# Loaded when first needed (dlopen), not linked: their headers only. Each
# brings dozens of shared libraries that every tool start-up would map and
# relocate (net/base/dl-priv.h, vm/libvirt/virt-dl.h, vm/aws/curl-dl.h).
DL_PKGS := libvirt libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(filter-out $(DL_PKGS),$(PKGS)) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -fPIC -fvisibility=hidden $(WARN) -MMD -MP
ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
# ASan resolves the real functions behind its interceptors once, at start:
# libtirpc's XDR ones (which libvirt calls) must be loaded by then, not
# only with libvirt (dlopen), or the interceptor calls a NULL pointer.
PKG_LIBS += -Wl,--push-state,--no-as-needed -l:libtirpc.so.3 -Wl,--pop-state
endif
ifeq ($(FUZZ),1)
CFLAGS   += -fsanitize=fuzzer-no-link,address,undefined \
            -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
endif

# One folder per module (README "Layout"); the library is all of them plus
# the generated table of guest providers.
LIB_SRCS  := $(wildcard net/*/*.c vm/*/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/obj/%.o) $(O)/obj/gen/providers.o
# The guest providers built in: NAME defines cyris_provider_def_NAME in its
# own folder; net/topo/ finds them only through the generated table.
PROVIDERS := netns libvirt aws
# net/ alone, without vm/ and its libraries: tests/unit/layers.c links it.
NET_OBJS  := $(filter $(O)/obj/net/%,$(LIB_OBJS)) $(O)/obj/gen/providers-net.o
NET_PKGS  := libnl-3.0 libnl-route-3.0 libmnl libnftnl yaml-0.1 libssh
TOOL_MAIN := $(wildcard tools/cyris-*.c)
TOOL_AUX  := $(filter-out $(TOOL_MAIN),$(wildcard tools/*.c))
# The tools link net/base/'s writer and helpers themselves (the library keeps
# them hidden): with those and the public API they link libcyris.so too.
TOOL_BASE := net/base/json.c net/base/util.c
TOOL_AUXO := $(TOOL_AUX:%.c=$(O)/obj/%.o) $(TOOL_BASE:%.c=$(O)/obj/%.o)
TOOLS     := $(TOOL_MAIN:tools/%.c=$(O)/bin/%)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNITS     := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%.t)
HELP_SRCS := $(wildcard tests/helpers/*.c)
HELPERS   := $(HELP_SRCS:tests/helpers/%.c=$(O)/tests/helpers/%)
BENCH_SRCS:= $(wildcard tests/bench/*.c)
BENCH_PROGS := $(BENCH_SRCS:tests/bench/%.c=$(O)/bench/%)
MANS      := $(wildcard tools/man/*.[1-8])
# One harness per tests/fuzz/*.c; replay.c is the driver that feeds files.
FUZZ_SRCS := $(filter-out tests/fuzz/replay.c,$(wildcard tests/fuzz/*.c))
FUZZ_TARGETS := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(O)/fuzz/replay-%)

STATIC := $(O)/lib/libcyris.a
SHARED := $(O)/lib/libcyris.so.$(VERSION)

.SECONDARY:
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

.PHONY: all deps check check-valgrind bench demo fuzz fuzz-build install uninstall clean help
all: $(STATIC) $(SHARED) $(TOOLS) $(UNITS) $(HELPERS) $(BENCH_PROGS) $(FUZZ_REPLAY)

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(O)/obj/gen/%.o: $(O)/gen/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The NULL-terminated table net/topo/topo-priv.h declares.
gen_providers = { echo '/* Generated by the Makefile from PROVIDERS. */'; \
	echo '\#include "cyris/provider.h"'; \
	for p in $(1); do echo "extern const struct cyris_provider_def cyris_provider_def_$$p;"; done; \
	echo 'extern const struct cyris_provider_def *const cyris_builtin_providers[];'; \
	echo 'const struct cyris_provider_def *const cyris_builtin_providers[] = {'; \
	for p in $(1); do echo "	&cyris_provider_def_$$p,"; done; \
	echo '	NULL,'; echo '};'; } > $@.tmp && mv $@.tmp $@
$(O)/gen/providers.c: Makefile
	@mkdir -p $(@D)
	$(Q)$(call gen_providers,$(PROVIDERS))
$(O)/gen/providers-net.c: Makefile
	@mkdir -p $(@D)
	$(Q)$(call gen_providers,$(filter netns,$(PROVIDERS)))

$(STATIC): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

# Exported: what include/cyris/*.h declares (see include/libcyris.map).
$(SHARED): $(LIB_OBJS) include/libcyris.map
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -Wl,-soname,libcyris.so.$(SOVERSION) \
	    -Wl,--version-script=include/libcyris.map $(LDFLAGS) -o $@ $(LIB_OBJS) $(PKG_LIBS)
	$(Q)ln -sf libcyris.so.$(VERSION) $(O)/lib/libcyris.so.$(SOVERSION)
	$(Q)ln -sf libcyris.so.$(SOVERSION) $(O)/lib/libcyris.so

# Tools link the static archive: one small binary each, nothing to resolve
# at start-up; harnesses link the shared library through libcyris.pc.
$(O)/bin/%: $(O)/obj/tools/%.o $(TOOL_AUXO) $(STATIC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TOOL_AUXO) $(STATIC) $(PKG_LIBS)

$(O)/tests/%.t: $(O)/obj/tests/unit/%.o $(TOOL_AUXO) $(STATIC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TOOL_AUXO) $(STATIC) $(PKG_LIBS)

# net/ builds and links without vm/ (and without libvirt, libxml2, libisofs).
$(O)/tests/layers.t: $(O)/obj/tests/unit/layers.o $(NET_OBJS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(NET_PKGS) 2>/dev/null)

$(O)/tests/helpers/%: $(O)/obj/tests/helpers/%.o $(STATIC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(STATIC) $(PKG_LIBS)

$(O)/bench/%: $(O)/obj/tests/bench/%.o $(STATIC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(STATIC) $(PKG_LIBS)

# A harness with the replay driver (any compiler, SAN=1 too): `make check`
# feeds it the corpus and every crash ever found (tests/fuzz.t).
$(O)/fuzz/replay-%: $(O)/obj/tests/fuzz/%.o $(O)/obj/tests/fuzz/replay.o $(STATIC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# A harness with libFuzzer (FUZZ=1: clang).
$(O)/fuzz/%: $(O)/obj/tests/fuzz/%.o $(STATIC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

# ---- packages ---------------------------------------------------------------
# Installs only what is missing; a second run costs one dpkg-query.
deps:
	@missing=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package}\n' $(DEB_PKGS) 2>/dev/null \
	    | awk '$$1 == "ii" { ok[$$2] = 1 } END { n = split("$(DEB_PKGS)", p, " "); \
	      for (i = 1; i <= n; i++) if (!(p[i] in ok)) printf "%s ", p[i] }'); \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" != 0 ]; then echo "make deps: missing $$missing; run as root (sudo make deps)" >&2; exit 1; fi; \
	    echo "make deps: installing $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "make deps: all $(words $(DEB_PKGS)) packages present"; fi
	@# the AWS tests' EC2 emulator: Debian has no moto, the machine's python3 has it
	@python3 -c 'import moto, boto3, moto.server' 2>/dev/null || \
	    echo "make deps: python3 cannot import moto and boto3: the AWS tests (tests/aws-*.t) skip, and fail with CI=true" >&2

# ---- tests ------------------------------------------------------------------
# TESTS selects a subset: make check TESTS='tests/bridge-*.t'
TESTS ?= $(UNITS) $(sort $(wildcard tests/*.t))
PROVE ?= prove
PROVE_FLAGS ?= -j2 --timer
TEST_ENV = CYRIS_BUILD=$(abspath $(O)) CYRIS_BIN=$(abspath $(O)/bin) \
           CYRIS_SRC=$(CURDIR) CYRIS_SAN=$(SAN) CYRIS_CC=$(CC) \
           ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

check: deps
	$(MAKE) --no-print-directory all SAN=$(SAN)
	$(TEST_ENV) $(PROVE) $(PROVE_FLAGS) $(TESTS)

# The same suite with every cyris tool run under valgrind's memcheck.
check-valgrind: deps
	$(MAKE) --no-print-directory all SAN=0
	$(TEST_ENV) CYRIS_VALGRIND=1 $(PROVE) $(PROVE_FLAGS) $(TESTS)

# The main job on a fresh machine: dmz.yml up, shown, probed, down — inside a
# network and mount namespace of its own, so the host is never touched.
demo: deps
	$(MAKE) --no-print-directory all SAN=0
	@[ "$$(id -u)" = 0 ] || { echo "make demo: needs root (sudo make demo)" >&2; exit 1; }
	unshare --net --mount --propagation private -- sh -c '\
	    mkdir -p /run/netns && mount -t tmpfs cyris-demo /run/netns && \
	    ip link set lo up && CYRIS_BIN=$(abspath $(O)/bin) contrib/demo.sh'

# BENCHES selects some: make bench BENCHES=bench-fw.sh
bench: deps
	$(MAKE) --no-print-directory all SAN=0
	$(TEST_ENV) $(if $(BENCHES),BENCHES='$(BENCHES)') bash tests/bench/run.sh

# ---- fuzzing ----------------------------------------------------------------
# make fuzz [FUZZ_TIME=seconds per target] [FUZZ_TARGETS='range rule']: each
# harness under libFuzzer (clang, ASan+UBSan) from the seeds in
# tests/fuzz/corpus/T (the range one also from the example files) and the
# crashes in tests/fuzz/regress/T; new inputs go to build/fuzz/corpus/T, a
# crash to build/fuzz/crash/T/ (keep it: copy it to tests/fuzz/regress/T/).
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 60
FUZZ_RSS     ?= 2048
FUZZ_TIMEOUT ?= 10
FUZZ_SEEDS_range := contrib/cyris-examples tests/ranges

fuzz-build: $(FUZZ_TARGETS:%=$(O)/fuzz/%)

fuzz: deps
	$(MAKE) --no-print-directory FUZZ=1 SAN=0 CC=$(FUZZ_CC) fuzz-build
	@fail=; for t in $(FUZZ_TARGETS); do \
	    mkdir -p build/fuzz/corpus/$$t build/fuzz/crash/$$t; \
	    seeds=; for d in tests/fuzz/corpus/$$t tests/fuzz/regress/$$t; do [ ! -d $$d ] || seeds="$$seeds $$d"; done; \
	    case $$t in range) seeds="$$seeds $(FUZZ_SEEDS_range)";; esac; \
	    echo "  FUZZ    $$t ($(FUZZ_TIME) s, log build/fuzz/$$t.log)"; \
	    if build/fuzz/fuzz/$$t -max_total_time=$(FUZZ_TIME) -rss_limit_mb=$(FUZZ_RSS) \
	        -timeout=$(FUZZ_TIMEOUT) -print_final_stats=1 -artifact_prefix=build/fuzz/crash/$$t/ \
	        $$([ -f tests/fuzz/$$t.dict ] && echo -dict=tests/fuzz/$$t.dict) \
	        build/fuzz/corpus/$$t $$seeds \
	        >build/fuzz/$$t.log 2>&1; then \
	        awk '/^stat::number_of_executed_units/ { n = $$2 } /^stat::average_exec_per_sec/ { s = $$2 } \
	            END { printf "          %s executions, %s/s\n", n, s }' build/fuzz/$$t.log; \
	    else \
	        grep -E '^(==[0-9]+== ?ERROR|SUMMARY|.*invariant failed|artifact_prefix|Test unit written)' build/fuzz/$$t.log | head -20; \
	        echo "make fuzz: $$t crashed; keep the input: cp build/fuzz/crash/$$t/* tests/fuzz/regress/$$t/" >&2; \
	        fail=1; \
	    fi; \
	done; [ -z "$$fail" ]

# ---- install ----------------------------------------------------------------
define PC
prefix=$(PREFIX)
libdir=$(LIBDIR)
includedir=$(INCDIR)

Name: libcyris
Description: cyber-range infrastructure on Linux: links, nftables, VMs, tunnels
Version: $(VERSION)
Requires.private: $(filter-out $(DL_PKGS),$(PKGS))
Libs: -L$${libdir} -lcyris
Cflags: -I$${includedir}
endef
export PC

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(INCDIR)/cyris $(DESTDIR)$(COMPDIR) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man,$(sort $(subst .,,$(suffix $(MANS)))))
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libcyris.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libcyris.so.$(SOVERSION)
	ln -sf libcyris.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libcyris.so
	install -m 644 include/cyris/*.h $(DESTDIR)$(INCDIR)/cyris/
	printf '%s\n' "$$PC" > $(DESTDIR)$(LIBDIR)/pkgconfig/libcyris.pc
	for m in $(MANS); do install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done
	install -m 644 contrib/bash-completion/* $(DESTDIR)$(COMPDIR)/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(TOOLS)))
	rm -f $(DESTDIR)$(LIBDIR)/libcyris.* $(DESTDIR)$(LIBDIR)/pkgconfig/libcyris.pc
	rm -rf $(DESTDIR)$(INCDIR)/cyris
	rm -f $(foreach m,$(MANS),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(addprefix $(DESTDIR)$(COMPDIR)/,$(notdir $(wildcard contrib/bash-completion/*)))

clean:
	rm -rf build

help:
	@echo "make            build library, tools and tests (build/default)"
	@echo "make deps       install the Debian packages that are missing"
	@echo "make check      deps + build + every test through prove (SAN=1: ASan+UBSan)"
	@echo "make check-valgrind   the suite with the tools under valgrind"
	@echo "make demo       deps + build + bring dmz.yml up, probe it, take it down"
	@echo "make bench      the benchmarks in tests/bench (not part of check)"
	@echo "make fuzz       libFuzzer (clang) on each parser, FUZZ_TIME=s each, FUZZ_TARGETS=..."
	@echo "make install    DESTDIR=... PREFIX=... tools, library, headers, libcyris.pc, man"

-include $(shell find build -name '*.d' 2>/dev/null)
