# Entry points of the harness; README.md documents them.
#
#   make setup                      install what is missing (Debian packages)
#   make check [ARCH=..] [KERNEL=..] every suite, both arches, summary line
#                                   (VARIANTS=0 skips the KCSAN kernel;
#                                   FULL=1 adds the KASAN+UBSAN kernels
#                                   and every mutant of make mutate;
#                                   SEED=N|random: another seed)
#   make run                        x86_64 demo: watchpoints firing
#   make shell [ARCH=..]            interactive guest
#   make build [ARCH=..]            kernels only
#   make patches                    export the series to build/patches
#   make lint [ARCH=..] [FULL=1]    checkpatch, kernel-doc, W=1 and sparse
#                                   (FULL=1: build x86_64 after each patch)
#   make xbuild [ARCH=..]           lint's cross builds alone: arm, powerpc,
#                                   sh (core + arch objects, W=1, sparse)
#   make bench [ROUNDS=..] [QUICK=1] [ARCH=..]
#                                   ours vs stock under QEMU -icount, both
#                                   arches, two configs: bench/results.md
#   make mutate [ARCH_MUTANTS=1]    planted defects (harness/mutants.txt)
#                                   must each be caught: kill ratio
#               [MUTANTS=a,b]       (only the mutants named)
#   make clean                      drop build/ (the ccache stays)

ARCH   ?= all
KERNEL ?= ours
HWBP   := python3 harness/hwbp.py

# Commands that build or boot first make sure the host has what they need.
DEPS := build/.deps-ok

.PHONY: setup check run shell build patches lint xbuild bench mutate clean

setup:
	@harness/deps.sh
	@mkdir -p build && touch $(DEPS)

$(DEPS): harness/deps.sh
	@harness/deps.sh --check >/dev/null || harness/deps.sh
	@mkdir -p build && touch $@

check: $(DEPS)
	@$(HWBP) check --arch $(ARCH) --kernel $(KERNEL) $(if $(filter 0,$(VARIANTS)),--no-variants) $(if $(filter 1,$(FULL)),--full) $(if $(SEED),--seed $(SEED))

run: $(DEPS)
	@$(HWBP) run --kernel $(KERNEL)

shell: $(DEPS)
	@$(HWBP) shell --arch $(if $(filter all,$(ARCH)),x86_64,$(ARCH)) --kernel $(KERNEL)

build: $(DEPS)
	@$(HWBP) build --arch $(ARCH) --kernel $(KERNEL)

patches: $(DEPS)
	@$(HWBP) patches

lint: $(DEPS)
	@$(HWBP) lint --arch $(ARCH) $(if $(filter 1,$(FULL)),--full)

xbuild: $(DEPS)
	@$(HWBP) xbuild $(if $(filter arm powerpc sh,$(ARCH)),--arch $(ARCH))

bench: $(DEPS)
	@$(HWBP) bench --rounds $(or $(ROUNDS),5) $(if $(filter 1,$(QUICK)),--quick) $(if $(filter-out all,$(ARCH)),--arch $(ARCH))

mutate: $(DEPS)
	@python3 harness/mutate.py $(if $(filter 1,$(ARCH_MUTANTS)),--arch-mutants)

clean:
	rm -rf build
