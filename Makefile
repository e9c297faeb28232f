# concbench — the only entry points a user needs:
#   make            build bin/concbench, bin/delayd and the tools (bin/httpfloor, ...)
#   make test       unit and integration tests (installs missing dependencies first)
#   make bench      time every cell with hyperfine; tables and charts under results/
#                   (PROFILE=quick|default|full|peers, RUN_ID=name, PEERS=1: the Python and
#                   Go peers' rows too, BENCH_ARGS='--fresh ...')
#   make deps       install (as root) or check the Debian packages we need
#                   (PEERS=1: also the Python and Go peers')
#   make clean
#   make fuzz       run each fuzz/NAME.c (delayd's request reader, the run reader) for
#                   FUZZ_SECONDS (60) under clang's libFuzzer
# Variants: SANITIZE=1 (ASan+UBSan), SANITIZE=thread (TSan), SANITIZE=fuzz (clang,
# ASan+UBSan+libFuzzer coverage: what make fuzz builds), GREEN_SWITCH=asm|ucontext.

CC       ?= cc
SANITIZE ?=
GREEN_SWITCH ?= asm

CPPFLAGS += -I. -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -fno-strict-aliasing
LDLIBS   += -luv -lhttp_parser -lcurl -lgmp -ljansson -lpthread -lm
LDFLAGS  += -rdynamic

VARIANT := $(GREEN_SWITCH)
ifeq ($(SANITIZE),1)
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
  VARIANT := $(VARIANT)-asan
else ifeq ($(SANITIZE),thread)
  CFLAGS  += -fsanitize=thread -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=thread
  VARIANT := $(VARIANT)-tsan
else ifeq ($(SANITIZE),fuzz)
  CC      := clang
  CFLAGS  += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
  VARIANT := $(VARIANT)-fuzz
endif
CPPFLAGS += -DCB_GREEN_SWITCH_$(GREEN_SWITCH)=1

# OUT=dir/ puts every build product under dir/ (parallel builds of one tree).
OUT   ?=
BUILD := $(OUT)build/$(VARIANT)
BIN   := $(if $(filter asm,$(VARIANT)),$(OUT)bin,$(BUILD)/bin)

# Programs: concbench (harness/cli), the servers (servers/NAME) and the standalone
# tools (tools/NAME); each has a main.c and links against one static library made of
# every other .c/.S of the tree (common, runtimes, workloads, harness, servers, tools).
PROGRAMS := concbench $(notdir $(wildcard servers/* tools/*))
program_dir = $(if $(filter concbench,$1),harness/cli,$(firstword $(wildcard servers/$1 tools/$1)))
MAINS    := harness/cli/main.c $(wildcard servers/*/main.c tools/*/main.c)
LIB_SRCS := $(sort $(filter-out $(MAINS),$(wildcard common/*.c runtimes/*.c runtimes/*/*.c workloads/*.c \
              harness/*/*.c servers/*/*.c tools/*/*.c)))
ASM_SRCS := $(if $(filter asm,$(GREEN_SWITCH)),$(wildcard runtimes/green/*.S))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS)) $(patsubst %.S,$(BUILD)/%.o,$(ASM_SRCS))
LIB      := $(BUILD)/libconcbench.a

TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_HELPERS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/helpers/*.c))

# Peers (runtimes/peer/README.md): the Python peer's files are copied beside
# bin/concbench, under bin/peers/python; the Go peer is built as
# bin/peers/concbench-peer-go when Go is installed, never fetched (the standard
# library only, GOPROXY=off, its caches under the build folder).
PY_PEERS := $(patsubst peers/%,$(BIN)/peers/%,$(wildcard peers/python/*.py peers/python/cbpeer/*.py))
GO       := $(shell command -v go 2>/dev/null)
GO_PEER  := $(if $(GO),$(BIN)/peers/concbench-peer-go)

.SECONDARY:
.PHONY: all test test-one bench report deps clean check-deps
all: $(addprefix $(BIN)/,$(PROGRAMS)) $(PY_PEERS) $(GO_PEER)

$(BIN)/peers/python/%.py: peers/python/%.py
	@mkdir -p $(dir $@)
	cp $< $@

$(BIN)/peers/concbench-peer-go: $(wildcard peers/go/*.go) peers/go/go.mod
	@mkdir -p $(dir $@) $(BUILD)/go
	cd peers/go && GOCACHE=$(abspath $(BUILD)/go/cache) GOPATH=$(abspath $(BUILD)/go/path) GOTOOLCHAIN=local \
	  GOPROXY=off GOFLAGS= GO111MODULE=on CGO_ENABLED=0 $(GO) build -trimpath -o $(abspath $@) .

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tests/helpers/%.o: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DCB_BIN_DIR='"$(abspath $(BIN))"' -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

.SECONDEXPANSION:
$(BIN)/%: $(BUILD)/$$(call program_dir,$$*)/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(TEST_HELPERS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DCB_BIN_DIR='"$(abspath $(BIN))"' -DCB_SRC_DIR='"$(abspath .)"' \
	  -DCB_TEST_OUT_DIR='"$(abspath $(BUILD)/tests/output)"' -DCB_MAKE_VARS='"OUT=$(OUT)"','"SANITIZE=$(SANITIZE)"' $(LDFLAGS) $< $(TEST_HELPERS) $(LIB) -lcriterion $(LDLIBS) -o $@

deps:
	@sh scripts/deps.sh $(if $(PEERS),--peers)

check-deps:
	@sh scripts/deps.sh --quiet

# Each test binary runs its tests isolated (Criterion forks per test) with a timeout;
# scripts/run-tests.sh runs every binary and prints one closing summary line.
# The green runtime's tests run with both context switches (DESIGN.md convention 4):
# with the default asm switch, its tests are also built and run in the ucontext variant.
UCTX_TEST_BINS := $(if $(filter asm,$(GREEN_SWITCH)),$(patsubst tests/%.c,$(OUT)build/ucontext$(VARIANT:asm%=%)/tests/%,$(wildcard tests/test_green_*.c tests/test_gevent_*.c)))

test: check-deps
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	$(if $(UCTX_TEST_BINS),@$(MAKE) --no-print-directory GREEN_SWITCH=ucontext all $(UCTX_TEST_BINS))
	@sh scripts/run-tests.sh $(TEST_BINS) $(UCTX_TEST_BINS)

PROFILE ?= default
RUN_ID  ?=
bench: check-deps all
	@CONCBENCH_CFLAGS="$(CFLAGS)" $(BIN)/concbench bench --profile $(PROFILE) $(if $(RUN_ID),--run-id $(RUN_ID)) $(if $(PEERS),--peers) $(BENCH_ARGS)

report: all
	@$(BIN)/concbench report

clean:
	rm -rf $(OUT)build $(OUT)bin

-include $(shell find $(OUT)build -name '*.d' 2>/dev/null)

# make fuzz: every fuzz/NAME.c is a libFuzzer target (Debian's clang and
# libclang-rt-14-dev: make fuzz checks them as make test does its packages), linked
# against the library built with clang in the fuzz variant (ASan + UBSan + coverage),
# and run FUZZ_SECONDS (60) each; not part of make test. Seeds fuzz/corpus/NAME/,
# dictionary fuzz/NAME.dict where there is one; the grown corpus and any crash-*
# input land in $(OUT)build/fuzz/NAME.*.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(basename $(notdir $(wildcard fuzz/*.c)))
FUZZ_DIR     := $(OUT)build/fuzz
ifeq ($(SANITIZE),fuzz)
$(FUZZ_DIR)/%: fuzz/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer $< $(LIB) $(LDLIBS) -o $@
endif

.PHONY: fuzz
fuzz:
	@sh scripts/deps.sh --quiet --fuzz
	@$(MAKE) --no-print-directory SANITIZE=fuzz $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/$$t.corpus; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
	    $$( [ -f fuzz/$$t.dict ] && echo -dict=fuzz/$$t.dict ) -artifact_prefix=$(FUZZ_DIR)/$$t. \
	    $(FUZZ_DIR)/$$t.corpus fuzz/corpus/$$t; \
	done
