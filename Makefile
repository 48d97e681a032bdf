# ustack build. `make` builds build/rel/ustack and build/rel/libustack.a; see README for targets.
# Sources are found by wildcard so a new file in src/, apps/, tests/ or fuzz/ needs no edit here.

CC      ?= cc
ifeq ($(origin CC),default)
CC      := cc
endif
CLANG   ?= clang
WARN    := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
INC     := -Iinclude -Isrc -Iapps
LIBS    := -lpcap -lresolv -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

SRC     := $(sort $(shell find src apps -name '*.c'))
UNIT    := $(sort $(wildcard tests/unit/*_test.c))
SIM     := $(sort $(wildcard tests/sim/*_test.c))
TESTLIB := $(sort $(wildcard tests/lib/*.c))
FUZZ    := $(sort $(wildcard fuzz/fuzz_*.c))
BENCH   := $(sort $(wildcard bench/*.c))

# V=1 shows every command
Q       := $(if $(V),,@)

# Release build
REL     := build/rel
REL_CFLAGS := $(WARN) $(INC) -O2 -g
REL_OBJ := $(SRC:%.c=$(REL)/%.o)

# Test build: AddressSanitizer + UndefinedBehaviorSanitizer, invariant checks on
ASAN    := build/asan
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_CFLAGS := $(WARN) $(INC) -O1 -g $(SAN) -DUS_DEBUG
ASAN_OBJ := $(SRC:%.c=$(ASAN)/%.o)

# Fuzz build (clang only)
FZ      := build/fuzz
FZ_CFLAGS := $(WARN) $(INC) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -DUS_DEBUG -DUS_FUZZ
FZ_OBJ  := $(SRC:%.c=$(FZ)/%.o)

.PHONY: all test unit sim interop demo fuzz fuzz-build bench clean deps check-layers both-compilers
all: $(REL)/ustack $(REL)/libustack.a

$(REL)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(REL_CFLAGS) -MMD -MP -c $< -o $@
$(REL)/libustack.a: $(REL_OBJ)
	$(Q)ar rcs $@ $^
$(REL)/ustack: tools/ustack.c $(REL)/libustack.a
	$(CC) $(REL_CFLAGS) $< $(REL)/libustack.a $(LIBS) -o $@

$(ASAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@
$(ASAN)/libustack.a: $(ASAN_OBJ)
	$(Q)ar rcs $@ $^
$(ASAN)/ustack: tools/ustack.c $(ASAN)/libustack.a
	$(CC) $(ASAN_CFLAGS) $< $(ASAN)/libustack.a $(LIBS) -o $@
$(ASAN)/tests/%: tests/%.c $(TESTLIB) $(ASAN)/libustack.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_CFLAGS) -Itests $< $(TESTLIB) $(ASAN)/libustack.a $(LIBS) $(CHECK_LIBS) -o $@

UNIT_BIN := $(UNIT:tests/%.c=$(ASAN)/tests/%)
SIM_BIN  := $(SIM:tests/%.c=$(ASAN)/tests/%)

deps:
	@bash scripts/deps.sh

# The README's test command. Runs unit, simulation and interop tests under ASan/UBSan.
test: deps
	@$(MAKE) --no-print-directory unit sim interop

unit: $(UNIT_BIN)
	@bash scripts/run-tests.sh unit $(UNIT_BIN)
sim: $(SIM_BIN)
	@bash scripts/run-tests.sh sim $(SIM_BIN)
interop: $(ASAN)/ustack
	@bash scripts/run-interop.sh $(ASAN)/ustack

demo: deps $(REL)/ustack
	@bash scripts/demo.sh $(REL)/ustack

$(FZ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FZ_CFLAGS) -MMD -MP -c $< -o $@
$(FZ)/libustack.a: $(FZ_OBJ)
	$(Q)ar rcs $@ $^
$(FZ)/bin/%: fuzz/%.c $(FZ)/libustack.a
	@mkdir -p $(dir $@)
	$(CLANG) $(FZ_CFLAGS) -fsanitize=fuzzer $< $(FZ)/libustack.a $(LIBS) -o $@
FUZZ_BIN := $(FUZZ:fuzz/%.c=$(FZ)/bin/%)
fuzz-build: $(FUZZ_BIN)
# FUZZ_SECONDS per target (default 30); the whole-stack target gets FUZZ_STACK_SECONDS.
fuzz: $(FUZZ_BIN)
	@bash scripts/run-fuzz.sh $(FUZZ_BIN)

bench: deps
	@$(MAKE) --no-print-directory $(REL)/libustack.a
	@bash scripts/run-bench.sh

# Build everything with both compilers under -Werror (CI runs this).
both-compilers:
	@$(MAKE) --no-print-directory CC=gcc REL=build/gcc all
	@$(MAKE) --no-print-directory CC=clang REL=build/clang all

# The layer check reads the release objects' symbols (nm) and every #include; then shows, in a
# copy of the tree, that it catches an upward call, a sideways call, an include and a mutable static.
check-layers: $(REL_OBJ)
	@python3 scripts/check-layers.py $(REL)
	@bash scripts/test-check-layers.sh $(REL)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
