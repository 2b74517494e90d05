# Showcase build.
#
#   make            build the programs into $(BUILD)/
#   make demo       install what is missing, start the local stack, show it
#   make test       install what is missing, build, run every test
#   make test-asan  the same tests on an AddressSanitizer + UBSan build
#   make test-valgrind  the unit tests under valgrind
#   make bench      run the benchmarks in tests/bench/
#   make clean
#
# pkg-config is consulted lazily (=, not :=) so that `make test` and
# `make demo` on a fresh machine can install the libraries first and then
# build in a sub-make.

CC       ?= cc
BUILD    ?= build
SAN      ?=
PKGS      = hiredis libcurl libpq libcjson libmicrohttpd libsodium libcrypto \
            libavformat libavcodec libswscale libavutil libavfilter libseccomp

WARN     = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla
CFLAGS   ?= -O2 -g
# Evaluated on first use, then kept: one pkg-config call per make.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -MMD -MP -Icommon -Iworker/pipeline \
             $(PKG_CFLAGS)
LDLIBS   = $(PKG_LIBS) -lpthread -lm

ifeq ($(SAN),1)
ALL_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
endif

COMMON_SRC = $(wildcard common/*.c)
API_SRC    = $(wildcard api/*.c api/routes/*.c api/oidc/*.c)
WORKER_SRC = $(wildcard worker/*.c)
PIPE_SRC   = $(wildcard worker/pipeline/*.c)
XCODE_SRC  = $(wildcard worker/cli/*.c)
CTL_SRC    = $(wildcard common/ctl/*.c)
UNIT_SRC   = $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB      = $(BUILD)/libshowcase.a
PIPE     = $(BUILD)/libpipeline.a
PROGRAMS = $(BUILD)/showcase-api $(BUILD)/showcase-worker $(BUILD)/showcasectl \
           $(BUILD)/showcase-transcode
UNIT     = $(BUILD)/unit-tests
# test helpers built from tests/integration/tools/*.c
TOOLS    = $(patsubst tests/integration/tools/%.c,$(BUILD)/%,$(wildcard tests/integration/tools/*.c))

.SECONDARY:
.PHONY: all deps build-tests test test-asan test-valgrind demo bench dist clean

all: $(PROGRAMS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(call obj,$(COMMON_SRC))
	@echo "  AR      $@"
	@$(AR) rcs $@ $^

# the HDR conversion's passes rely on the vectoriser's dynamic cost model,
# sqrtf inline (no errno to set), and min/max as instructions (its values
# are finite, no trap is wanted)
$(call obj,worker/pipeline/tonemap.c): ALL_CFLAGS += -ftree-vectorize -fvect-cost-model=dynamic \
	-fno-math-errno -fno-trapping-math -ffinite-math-only -fno-signed-zeros

# the built-in logo is assembled into this object (.incbin)
$(call obj,worker/pipeline/logo_data.c): worker/assets/logo.png

$(PIPE): $(call obj,$(PIPE_SRC))
	@echo "  AR      $@"
	@$(AR) rcs $@ $^

# the routes (api/routes/) use the API's headers
$(call obj,$(API_SRC)): ALL_CFLAGS += -Iapi

$(BUILD)/showcase-api: $(call obj,$(API_SRC)) $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/showcase-worker: $(call obj,$(WORKER_SRC)) $(PIPE) $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/showcasectl: $(call obj,$(CTL_SRC)) $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/showcase-transcode: $(call obj,$(XCODE_SRC)) $(PIPE) $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the API's self-contained modules are unit-tested too, and the worker's
# child process
UNIT_API = api/jwt.c api/lcache.c api/password.c api/pace.c api/peruser.c \
           api/latency.c api/pool.c api/client.c api/fingerprint.c \
           api/refusal_memo.c api/portal_files.c api/oidc/jwk.c api/oidc/token.c \
           api/oidc/jwks.c
UNIT_WORKER = worker/child.c
$(call obj,$(UNIT_SRC)): ALL_CFLAGS += -Iapi -Iworker
$(UNIT): $(call obj,$(UNIT_SRC) $(UNIT_API) $(UNIT_WORKER)) $(PIPE) $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The baseline the API's HTTP layer is measured against (tests/bench/).
$(BUILD)/bench-http-baseline: $(call obj,tests/bench/http_baseline.c)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The queue's own cost, against redis-benchmark (tests/bench/).
$(BUILD)/bench-queue: $(call obj,tests/bench/queue_bench.c) $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%: $(BUILD)/obj/tests/integration/tools/%.o $(PIPE) $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build-tests: $(PROGRAMS) $(UNIT) $(TOOLS)

deps:
	@deploy/local/install-deps.sh

test: deps
	@$(MAKE) --no-print-directory build-tests
	@BIN_DIR=$(BUILD) tests/run.sh

test-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 build-tests
	@BIN_DIR=build-asan tests/run.sh

test-valgrind: deps
	@$(MAKE) --no-print-directory build-tests
	valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		$(UNIT)

demo: deps
	@$(MAKE) --no-print-directory all
	@BIN_DIR=$(BUILD) deploy/local/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench-http-baseline $(BUILD)/bench-queue
	@BIN_DIR=$(BUILD) tests/bench/run.sh

# The release tarball the servers install (deploy/aws user data):
# bin/, share/showcase/migrations, share/showcase/portal (the API finds it
# beside bin/) and share/showcase/systemd, for /usr/local.
dist: all
	@rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist/bin $(BUILD)/dist/share/showcase
	@cp $(PROGRAMS) $(BUILD)/dist/bin/
	@cp -r migrations deploy/systemd $(BUILD)/dist/share/showcase/
	@cp -r api/portal $(BUILD)/dist/share/showcase/portal
	@tar -czf $(BUILD)/showcase.tar.gz -C $(BUILD)/dist bin share
	@echo "  DIST    $(BUILD)/showcase.tar.gz"

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
