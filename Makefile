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
# Objects of a sanitizer build never mix with a normal one.
O       := build/$(if $(filter 1,$(SAN)),san,default)$(if $(findstring clang,$(CC)),-clang)

# Every library the toolkit links; pkg-config gives the flags.
PKGS := libnl-3.0 libnl-route-3.0 libmnl libnftnl yaml-0.1 libvirt \
        libxml-2.0 libisofs-1 libssh

# Debian packages to build, test and run everything (`make deps`).
DEB_BUILD := gcc clang make pkg-config libnl-3-dev libnl-route-3-dev \
        libmnl-dev libnftnl-dev libyaml-dev libvirt-dev libxml2-dev \
        libisofs-dev libssh-dev
DEB_TEST  := perl iproute2 nftables socat iputils-ping jq valgrind procps util-linux \
        binutils man-db
# per area, so that each stays one line to change
DEB_FW     :=
DEB_TOPO   :=
DEB_VM     := libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils dnsmasq-base iptables busybox-static cpio xz-utils mmdebstrap e2fsprogs genisoimage libxml2-utils openssh-client
DEB_TUNNEL := openssh-server openssh-client
DEB_PKGS  := $(DEB_BUILD) $(DEB_TEST) $(DEB_FW) $(DEB_TOPO) $(DEB_VM) $(DEB_TUNNEL)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -fPIC $(WARN) -MMD -MP
ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=address,undefined
endif

LIB_SRCS  := $(wildcard net/*/*.c vm/*/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/obj/%.o)
TOOL_MAIN := $(wildcard tools/cyris-*.c)
TOOL_AUX  := $(filter-out $(TOOL_MAIN),$(wildcard tools/*.c))
TOOL_AUXO := $(TOOL_AUX:%.c=$(O)/obj/%.o)
TOOLS     := $(TOOL_MAIN:tools/%.c=$(O)/bin/%)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNITS     := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%.t)
HELP_SRCS := $(wildcard tests/helpers/*.c)
HELPERS   := $(HELP_SRCS:tests/helpers/%.c=$(O)/tests/helpers/%)
BENCH_SRCS:= $(wildcard tests/bench/*.c)
BENCH_PROGS := $(BENCH_SRCS:tests/bench/%.c=$(O)/bench/%)
MANS      := $(wildcard tools/man/*.[1-8])

STATIC := $(O)/lib/libcyris.a
SHARED := $(O)/lib/libcyris.so.$(VERSION)

.SECONDARY:
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

.PHONY: all deps check check-valgrind bench demo install uninstall clean help
all: $(STATIC) $(SHARED) $(TOOLS) $(UNITS) $(HELPERS) $(BENCH_PROGS)

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(STATIC): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) -shared -Wl,-soname,libcyris.so.$(SOVERSION) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
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

$(O)/tests/helpers/%: $(O)/obj/tests/helpers/%.o $(STATIC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(STATIC) $(PKG_LIBS)

$(O)/bench/%: $(O)/obj/tests/bench/%.o $(STATIC)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(STATIC) $(PKG_LIBS)

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

# ---- install ----------------------------------------------------------------
define PC
prefix=$(PREFIX)
libdir=$(LIBDIR)
includedir=$(INCDIR)

Name: libcyris
Description: cyber-range infrastructure on Linux: links, nftables, VMs, tunnels
Version: $(VERSION)
Requires.private: $(PKGS)
Libs: -L$${libdir} -lcyris
Cflags: -I$${includedir}
endef
export PC

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(INCDIR)/cyris $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPDIR)
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
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MANS))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MANS))))
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
	@echo "make install    DESTDIR=... PREFIX=... tools, library, headers, libcyris.pc, man"

-include $(shell find build -name '*.d' 2>/dev/null)
