#!/usr/bin/env bash
# Run every test: the C unit tests, then each integration test file.
# Ends with one line "N passed, N failed" over all of them; exits non-zero
# if anything failed.  BIN_DIR names the build to test (default build).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export BIN_DIR=${BIN_DIR:-build}
case $BIN_DIR in /*) ;; *) BIN_DIR="$top/$BIN_DIR" ;; esac
# shellcheck source=deploy/local/lib.sh
. "$top/deploy/local/lib.sh"
# the workers' transcodes run as another user, who must reach the programs
BIN_DIR=$(sc_runnable_bin "$BIN_DIR")

passed=0
failed=0
counts=$(mktemp)
trap 'rm -f "$counts"' EXIT

echo "== unit tests ($BIN_DIR/unit-tests)"
"$BIN_DIR/unit-tests" | tee "$counts.unit"
summary=$(tail -n1 "$counts.unit")
rm -f "$counts.unit"
if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
else
    echo "unit tests ended without a summary"
    failed=$((failed + 1))
fi

for t in "$top"/tests/integration/test_*.sh; do
    echo "== $(basename "$t")"
    : >"$counts"
    IT_COUNTS=$counts bash "$t"
    rc=$?
    if [ -s "$counts" ]; then
        read -r p f <"$counts"
        passed=$((passed + p))
        failed=$((failed + f))
    fi
    if [ "$rc" != 0 ] && { [ ! -s "$counts" ] || [ "${f:-0}" = 0 ]; }; then
        echo "$(basename "$t") exited $rc without a failed test: counted as one failure"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
