# Convenience wrapper around Meson/Ninja.  `make check` is what CI runs.
BUILD ?= build
ASAN_BUILD ?= build-asan
PYTEST ?= python3 -m pytest

.PHONY: all deps build asan check unit-check integration-check demo bench install clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	@bash scripts/install-deps.sh --build-only
	meson setup $(BUILD) --buildtype=debugoptimized

$(ASAN_BUILD)/build.ninja:
	@bash scripts/install-deps.sh --build-only
	CC=clang meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dstatic=false

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

# Everything: deps, both builds, unit tests in both, integration tests on the
# normal build and a sanitizer pass of the lifecycle suite.
check: deps build asan
	bash scripts/check.sh

demo: deps build
	bash scripts/demo.sh

bench: deps build
	bash bench/run-all.sh

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
