# SPDX-License-Identifier: ISC
# The randomized lifecycle simulation (tests/sim/README).
#   make sim [SEEDS=N] [EVENTS=M] [FIRST_SEED=S] [SIM_FLAGS=...]   a hunt
#   make sim-ci       the bounded hunt tools/run-tests runs (one test line)
#   make sim-mutants  plant bugs in a copy of the tree; the hunt must catch each
SEEDS = 10
EVENTS = 200
FIRST_SEED = 1
SIM_PY = /usr/bin/python3 $(abs_top_srcdir)/tests/sim/sim.py \
	--srcdir $(abs_top_srcdir) --builddir $(abs_top_builddir)
SIM_BINARIES = smimesync$(EXEEXT) smimesync-signer$(EXEEXT) tests/tools/smimesync-crashy$(EXEEXT) \
	tests/tools/smimesync-signer$(EXEEXT)

sim: $(SIM_BINARIES)
	$(SIM_PY) --seeds $(SEEDS) --events $(EVENTS) --first-seed $(FIRST_SEED) $(SIM_FLAGS)
sim-ci: $(SIM_BINARIES)
	$(SIM_PY) --seeds 3 --events 80 --first-seed 1 --shrink-budget 20 $(SIM_FLAGS)
	$(SIM_PY) --engine incremental --seeds 1 --events 15 --first-seed 1 --shrink-budget 5 $(SIM_FLAGS)
sim-mutants: $(SIM_BINARIES)
	/usr/bin/python3 $(abs_top_srcdir)/tests/sim/mutants.py --srcdir $(abs_top_srcdir) \
		--builddir $(abs_top_builddir) $(SIM_FLAGS)
.PHONY: sim sim-ci sim-mutants

EXTRA_DIST += tests/sim/README tests/sim/sim.py tests/sim/mutants.py \
	tests/sim/known-violations tests/sim/simlib/__init__.py tests/sim/simlib/events.py \
	tests/sim/simlib/observe.py tests/sim/simlib/oracle.py tests/sim/simlib/people.py \
	tests/sim/simlib/world.py
