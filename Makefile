# ustack build. `make` builds build/rel/ustack, the static libraries in build/rel/ and the shared
# ones in build/pic/; `make install PREFIX=... DESTDIR=...` installs them; see README for targets.
# Sources are found by folder so a new or moved file in src/, apps/, tests/ or fuzz/ needs no edit.
#
# The products, each linking only what it uses:
#   libustack         src/ except src/runtime: the embeddable stack, protocols and drivers
#   libustack-client  src/runtime/client.c: the daemon's sockets for other processes
#   libustack-daemon  the rest of src/runtime: the daemon (internal, not installed)
#   libustack-apps    apps/: ping, netstat, DNS, HTTP, services (internal, not installed)
#   libustack-preload.so  src/preload/: LD_PRELOAD shim that `ustack run` gives a program; built
#                     without sanitizers in every build directory (an ASan library cannot be
#                     preloaded into programs built without ASan)
#   ustack            tools/ustack.c: the command line; plugs apps/ into the daemon

CC      ?= cc
ifeq ($(origin CC),default)
CC      := cc
endif
CLANG   ?= clang
WARN    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
# src/ is compiled without -Iapps: the library and the runtime cannot include an application.
INC     := -Iinclude -Isrc
APPS_INC = $(if $(filter src/%,$<),,-Iapps)
CORE_LIBS := -lpcap -lz -lm
LIBS    := -lpcap -lresolv -lz -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

CORE_SRC   := $(sort $(filter-out src/runtime/% src/preload/%,$(shell find src -name '*.c')))
PRELOAD_SRC := $(sort $(shell find src/preload -name '*.c'))
CLIENT_SRC := src/runtime/client.c
DAEMON_SRC := $(sort $(filter-out $(CLIENT_SRC),$(shell find src/runtime -name '*.c')))
APPS_SRC   := $(sort $(shell find apps -name '*.c'))
SRC     := $(CORE_SRC) $(CLIENT_SRC) $(DAEMON_SRC) $(APPS_SRC)
UNIT    := $(sort $(wildcard tests/unit/*_test.c))
UNIT_SH := $(sort $(wildcard tests/unit/*_test.sh))
SIM     := $(sort $(wildcard tests/sim/*_test.c))
TESTLIB := $(sort $(wildcard tests/lib/*.c))
FUZZ    := $(sort $(wildcard fuzz/fuzz_*.c))
BENCH   := $(sort $(wildcard bench/*.c))

# V=1 shows every command
Q       := $(if $(V),,@)

# Release build
REL     := build/rel
REL_CFLAGS := $(WARN) $(INC) -O2 -g

# Test build: AddressSanitizer + UndefinedBehaviorSanitizer, invariant checks on
ASAN    := build/asan
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_CFLAGS := $(WARN) $(INC) -O1 -g $(SAN) -DUS_DEBUG

# Fuzz build (clang only)
FZ      := build/fuzz
FZ_CFLAGS := $(WARN) $(INC) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -DUS_DEBUG -DUS_FUZZ

# Shared libraries: the core and the client library from -fPIC objects of their own, with only
# what the public headers declare exported (USTACK_BEGIN_DECLS gives those default visibility).
PIC     := build/pic
PIC_CFLAGS := $(REL_CFLAGS) -fPIC -fvisibility=hidden
VERSION := $(shell sed -n 's/^\#define USTACK_VERSION_STRING "\(.*\)"/\1/p' include/ustack/version.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SO_LDFLAGS := -shared -Wl,--no-undefined -Wl,-z,relro -Wl,-z,now

# Installation (GNU directory variables; DESTDIR for staging).
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

.PHONY: all test unit sim interop conformance demo fuzz fuzz-build bench clean deps check-layers both-compilers \
        build-deps test-deps install uninstall install-check soak soak-test
all: $(REL)/ustack $(REL)/libustack.a $(REL)/libustack-client.a \
     $(PIC)/libustack.so.$(VERSION) $(PIC)/libustack-client.so.$(VERSION) \
     $(REL)/libustack-preload.so

# Before compiling anything: are the headers and libraries the build needs installed?
build-deps:
	@CC="$(CC)" bash scripts/check-build-deps.sh build
test-deps:
	@CC="$(CC)" bash scripts/check-build-deps.sh test

# $(1): build directory. Its archives, in the order a program that uses them all links them.
define products
$(1)/libustack-apps.a: $(APPS_SRC:%.c=$(1)/%.o)
$(1)/libustack-daemon.a: $(DAEMON_SRC:%.c=$(1)/%.o)
$(1)/libustack-client.a: $(CLIENT_SRC:%.c=$(1)/%.o)
$(1)/libustack.a: $(CORE_SRC:%.c=$(1)/%.o)
$(1)/ALL_A := $(1)/libustack-apps.a $(1)/libustack-daemon.a $(1)/libustack-client.a $(1)/libustack.a
$(SRC:%.c=$(1)/%.o): | build-deps
$(1)/libustack-preload.so: $(PRELOAD_SRC) src/preload/preload.h src/runtime/ctl_proto.h | build-deps
	@mkdir -p $(1)
	$(Q)$(CC) $(WARN) $(INC) -O2 -g -fPIC -fvisibility=hidden -shared -Wl,--no-undefined \
	    $(PRELOAD_SRC) -lresolv -ldl -lpthread -o $$@
endef
$(foreach b,$(REL) $(ASAN) $(FZ) $(PIC),$(eval $(call products,$(b))))
# An archive is rebuilt whole, so a file moved elsewhere leaves no stale member behind.
%.a:
	@rm -f $@
	$(Q)ar rcs $@ $^

$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(REL_CFLAGS) $(APPS_INC) -MMD -MP -c $< -o $@
# `ustack run` looks for the preload library next to itself, then where it is installed.
TOOL_DEFS = -DUSTACK_PRELOAD_PATH='"$(LIBDIR)/libustack-preload.so"'
$(REL)/ustack: tools/ustack.c $($(REL)/ALL_A) | $(REL)/libustack-preload.so
	$(CC) $(REL_CFLAGS) $(TOOL_DEFS) -Iapps $< $(filter %.a,$^) $(LIBS) -o $@

$(PIC)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(PIC_CFLAGS) -MMD -MP -c $< -o $@
$(PIC)/libustack.so.$(VERSION): $(CORE_SRC:%.c=$(PIC)/%.o)
	$(Q)$(CC) $(SO_LDFLAGS) -Wl,-soname,libustack.so.$(SOMAJOR) $^ $(CORE_LIBS) -o $@
	@ln -sf $(notdir $@) $(PIC)/libustack.so.$(SOMAJOR) && ln -sf libustack.so.$(SOMAJOR) $(PIC)/libustack.so
$(PIC)/libustack-client.so.$(VERSION): $(CLIENT_SRC:%.c=$(PIC)/%.o)
	$(Q)$(CC) $(SO_LDFLAGS) -Wl,-soname,libustack-client.so.$(SOMAJOR) $^ -o $@
	@ln -sf $(notdir $@) $(PIC)/libustack-client.so.$(SOMAJOR) && \
	    ln -sf libustack-client.so.$(SOMAJOR) $(PIC)/libustack-client.so

$(ASAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) $(APPS_INC) -MMD -MP -c $< -o $@
$(ASAN)/ustack: tools/ustack.c $($(ASAN)/ALL_A) | $(ASAN)/libustack-preload.so
	$(CC) $(ASAN_CFLAGS) $(TOOL_DEFS) -Iapps $< $(filter %.a,$^) $(LIBS) -o $@
$(ASAN)/tests/%: tests/%.c $(TESTLIB) $($(ASAN)/ALL_A) | test-deps
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) -Iapps -Itests $< $(TESTLIB) $(filter %.a,$^) $(LIBS) $(CHECK_LIBS) -o $@

UNIT_BIN := $(UNIT:tests/%.c=$(ASAN)/tests/%)
SIM_BIN  := $(SIM:tests/%.c=$(ASAN)/tests/%)

deps:
	@bash scripts/deps.sh

# The README's test command. Runs unit, simulation and interop tests under ASan/UBSan, then
# checks the installed library and builds and runs examples/ against it. A test that cannot run
# prints SKIP and fails the run unless USTACK_ALLOW_SKIP names it (or is "all").
test: deps
	@$(MAKE) --no-print-directory unit sim interop conformance soak-test install-check

unit: $(UNIT_BIN)
	@bash scripts/run-tests.sh unit $(UNIT_BIN) $(UNIT_SH)
sim: $(SIM_BIN)
	@bash scripts/run-tests.sh sim $(SIM_BIN)
interop: $(ASAN)/ustack
	@bash scripts/run-interop.sh $(ASAN)/ustack
# The differential harness: each tests/conformance script against Linux and against ustack.
conformance: $(ASAN)/ustack $(ASAN)/libustack-preload.so
	@bash scripts/run-conformance.sh $(ASAN)/ustack

# The soak run (doc/soak.md): SOAK_SECONDS of mixed traffic against Linux over an impaired link,
# the daemon's memory, sockets, timer heap and pools watched; the release build, an hour by
# default (not in CI). make test runs SOAK_TEST_SECONDS of it under ASan.
SOAK_SECONDS ?= 3600
SOAK_TEST_SECONDS ?= 300
soak: deps $(REL)/ustack $(REL)/libustack-preload.so
	@SOAK_SECONDS=$(SOAK_SECONDS) nice -n 10 bash scripts/soak.sh $(REL)/ustack
soak-test: $(ASAN)/ustack $(ASAN)/libustack-preload.so
	@bash scripts/run-soak.sh $(ASAN)/ustack $(SOAK_TEST_SECONDS)

demo: deps $(REL)/ustack
	@bash scripts/demo.sh $(REL)/ustack

$(FZ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FZ_CFLAGS) $(APPS_INC) -MMD -MP -c $< -o $@
$(FZ)/bin/%: fuzz/%.c $($(FZ)/ALL_A)
	@mkdir -p $(dir $@)
	$(CLANG) $(FZ_CFLAGS) -Iapps -fsanitize=fuzzer $< $(filter %.a,$^) $(LIBS) -o $@
FUZZ_BIN := $(FUZZ:fuzz/%.c=$(FZ)/bin/%)
fuzz-build: $(FUZZ_BIN)
# FUZZ_SECONDS per target (default 30); the whole-stack target gets FUZZ_STACK_SECONDS.
fuzz: $(FUZZ_BIN)
	@bash scripts/run-fuzz.sh $(FUZZ_BIN)

bench: deps
	@$(MAKE) --no-print-directory $(REL)/libustack.a $(REL)/libustack-apps.a $(REL)/ustack \
	    $(REL)/libustack-preload.so
	@bash scripts/run-bench.sh

# Build everything with both compilers under -Werror (CI runs this).
both-compilers:
	@$(MAKE) --no-print-directory CC=gcc REL=build/gcc PIC=build/gcc-pic all
	@$(MAKE) --no-print-directory CC=clang REL=build/clang PIC=build/clang-pic all

# Installs the public headers, the static and shared libraries, their pkg-config files, the
# ustack tool and its manual page.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(INCLUDEDIR)/ustack $(DESTDIR)$(MANDIR)/man8
	install -m 644 include/ustack.h include/ustack_client.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(wildcard include/ustack/*.h) $(DESTDIR)$(INCLUDEDIR)/ustack/
	install -m 644 $(REL)/libustack.a $(REL)/libustack-client.a $(DESTDIR)$(LIBDIR)/
	for l in libustack libustack-client; do \
	    install -m 755 $(PIC)/$$l.so.$(VERSION) $(DESTDIR)$(LIBDIR)/ && \
	    ln -sf $$l.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$$l.so.$(SOMAJOR) && \
	    ln -sf $$l.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/$$l.so || exit 1; \
	    sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	        -e 's|@VERSION@|$(VERSION)|' pkgconfig/$${l#lib}.pc.in \
	        >$(DESTDIR)$(PKGCONFIGDIR)/$${l#lib}.pc || exit 1; \
	done
	install -m 755 $(REL)/ustack $(DESTDIR)$(BINDIR)/
	install -m 755 $(REL)/libustack-preload.so $(DESTDIR)$(LIBDIR)/
	install -m 644 doc/ustack.8 $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/ustack.h $(DESTDIR)$(INCLUDEDIR)/ustack_client.h \
	    $(addprefix $(DESTDIR)$(INCLUDEDIR)/ustack/,$(notdir $(wildcard include/ustack/*.h))) \
	    $(foreach l,libustack libustack-client,$(addprefix $(DESTDIR)$(LIBDIR)/$(l),.a .so \
	        .so.$(SOMAJOR) .so.$(VERSION))) \
	    $(DESTDIR)$(PKGCONFIGDIR)/ustack.pc $(DESTDIR)$(PKGCONFIGDIR)/ustack-client.pc \
	    $(DESTDIR)$(BINDIR)/ustack $(DESTDIR)$(MANDIR)/man8/ustack.8 \
	    $(DESTDIR)$(LIBDIR)/libustack-preload.so
	-rmdir $(DESTDIR)$(INCLUDEDIR)/ustack

# Installs into a temporary directory, checks what the shared libraries export, builds examples/
# against the installed library (shared and static) and runs them (CI runs it, as does make test).
install-check: all
	@bash scripts/check-install.sh

# The layer check reads the release objects' symbols (nm) and every #include; then shows, in a
# copy of the tree, that it catches an upward call, a sideways call, an include and a mutable static.
check-layers: $(SRC:%.c=$(REL)/%.o)
	@python3 scripts/check-layers.py $(REL)
	@bash scripts/test-check-layers.sh $(REL)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
