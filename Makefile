# g4 build. `make` builds build/libg4.a, build/libg4.so and build/g4.
# `make test` builds and runs every test and ends with "N passed, N failed".
# `make SAN=1 test` does the same under ASan+UBSan in build-san/.
# `make CC=clang` builds with clang. Sources are found by globbing, so a new
# .c file under src/ or tools/g4/ needs no Makefile edit. Files named *_avx2.c,
# *_avx512.c, *_avx512vnni.c get their ISA flags and are built only on x86;
# *_neon.c only on aarch64, *_dotprod_neon.c with +dotprod (each such file
# runs only after the CPU check in src/kernels/kernels.c).

CC      ?= cc
SAN     ?= 0
ARCH    := $(shell uname -m)
ifeq ($(SAN),1)
  BUILD  ?= build-san
  OPT    ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN  := -fsanitize=address,undefined
else
  BUILD  ?= build
  OPT    ?= -O2 -g
  LDSAN  :=
endif
PKGS     := jansson libmicrohttpd
PKGCFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKGLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lmicrohttpd)
CFLAGS  ?=
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -fPIC -pthread -Iinclude -Isrc $(PKGCFLAGS) -MMD -MP
LDLIBS  += $(PKGLIBS) -lm -pthread $(LDSAN)

ISA_AVX2   := -mavx2 -mfma -mf16c
ISA_AVX512 := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl
ISA_AVX512VNNI := $(ISA_AVX512) -mavx512vnni
ISA_DOTPROD := -march=armv8.2-a+dotprod

LIB_SRC := $(shell find src -name '*.c' | sort)
ifneq ($(ARCH),aarch64)
  LIB_SRC := $(filter-out %_neon.c,$(LIB_SRC))
else
  LIB_SRC := $(filter-out %_avx2.c %_avx512.c %_avx512vnni.c,$(LIB_SRC))
endif
CLI_SRC  := $(shell find tools/g4 -name '*.c' | sort)
TEST_SRC := $(shell find tests/unit -name 'test_*.c' | sort)
TEST_COMMON := $(filter-out $(TEST_SRC),$(shell find tests/unit -name '*.c' | sort))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_COMMON_OBJ := $(TEST_COMMON:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)

all: $(BUILD)/libg4.a $(BUILD)/libg4.so $(BUILD)/g4

$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_AVX2) -c $< -o $@
$(BUILD)/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_AVX512) -c $< -o $@
$(BUILD)/%_avx512vnni.o: %_avx512vnni.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_AVX512VNNI) -c $< -o $@
$(BUILD)/%_dotprod_neon.o: %_dotprod_neon.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_DOTPROD) -c $< -o $@
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libg4.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/libg4.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDFLAGS) $(LDLIBS)
$(BUILD)/g4: $(CLI_OBJ) $(BUILD)/libg4.a
	$(CC) -o $@ $(CLI_OBJ) $(BUILD)/libg4.a $(LDFLAGS) $(LDLIBS)
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_COMMON_OBJ) $(BUILD)/libg4.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(TEST_COMMON_OBJ) $(BUILD)/libg4.a $(LDFLAGS) $(LDLIBS)

tests: $(TEST_BIN) $(BUILD)/g4

# Runs every unit test binary and every scripted test; prints "N passed, N failed".
test: tests
	@BUILD=$(BUILD) sh tests/run.sh

# libFuzzer targets (clang), each run briefly: make fuzz FUZZ_SECONDS=20
fuzz:
	@FUZZ_SECONDS=$(or $(FUZZ_SECONDS),15) sh tests/scripts/fuzz.sh

clean:
	rm -rf build build-san build-fuzz

.PHONY: all tests test fuzz clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
.SECONDARY:
