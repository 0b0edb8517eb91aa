# goldroot: a thin wrapper over meson. `make demo` and `make check` work on a
# fresh Debian 12 machine as root; they install what is missing first.

BUILD       ?= build
CHECK_BUILD ?= build-check
PREFIX      ?= /usr/local
MESON       ?= meson

.PHONY: all deps build demo check unit bats bench install clean fuzz docs

all: build

deps:
	@tools/deps.sh all

$(BUILD)/build.ninja:
	@tools/deps.sh build
	$(MESON) setup $(BUILD) --buildtype=release --prefix=$(PREFIX) -Dtests=disabled

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Check builds: ASan + UBSan, -Werror, fault-injection points compiled in.
$(CHECK_BUILD)/build.ninja:
	@tools/deps.sh test
	$(MESON) setup $(CHECK_BUILD) --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false -Dwerror=true -Dcrash_points=true -Dtests=enabled

check: $(CHECK_BUILD)/build.ninja
	@tools/deps.sh test
	ninja -C $(CHECK_BUILD)
	tests/run $(CHECK_BUILD)

demo: deps build
	demo/demo.sh $(BUILD)/goldroot

bench: deps build
	bench/run.sh $(BUILD)/goldroot

# libFuzzer harnesses (issue 6): FUZZ_SECONDS per harness (default 600), and
# FUZZ_RUNS inputs for the profile parser when set. Builds into build-fuzz/.
fuzz:
	@tools/deps.sh fuzz
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} tests/fuzz/run.sh

# The README's picture of the ro profile, from `plan --dot` (needs graphviz).
docs: build
	tools/render-docs.sh $(BUILD)/goldroot

install: build
	$(MESON) install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(CHECK_BUILD)-valgrind $(CHECK_BUILD)-analyzer build-fuzz
