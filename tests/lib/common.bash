# Shared setup for the bats suites. $GOLDROOT is the binary under test
# (tests/run sets it to the check build).
: "${GOLDROOT:=$BATS_TEST_DIRNAME/../../build-check/goldroot}"
export GOLDROOT
export GOLDROOT_RUNDIR="$BATS_TEST_TMPDIR/run"
export GOLDROOT_STORE="$BATS_TEST_TMPDIR/store"
