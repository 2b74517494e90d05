#!/usr/bin/env bash
# Every shell script of the project passes shellcheck.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

test_shellcheck_passes_on_every_script() {
    local scripts
    mapfile -t scripts < <(cd "$IT_TOP" && find . \( -name '*.sh' -o -path ./.ci/run \) \
        -not -path '*/node_modules/*' -not -path './build*' | sort)
    check "found scripts" test "${#scripts[@]}" -gt 5
    check "shellcheck" bash -c "cd '$IT_TOP' && shellcheck -x ${scripts[*]}"
}

it_main
