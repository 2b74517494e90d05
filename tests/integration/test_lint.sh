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

test_openapi_description_lints_clean() {
    local out
    out=$(cd "$IT_TOP" && deploy/local/node_modules/.bin/redocly lint --config docs/redocly.yaml \
        docs/openapi.yaml 2>&1)
    check "redocly lint" test $? = 0
    if grep -qi warning <<<"$out"; then it_fail "redocly warns: $out"; fi
    # every route the server has is described, and nothing else (a path
    # served with and without a trailing slash is described without)
    local routes described
    routes=$(grep -ohE '\{ "(GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS)", "[^"]+"' "$IT_TOP"/api/routes/*.c |
        sed -E 's/.*"([A-Z]+)", "([^"]+)"/\2 \1/; s/\{\}/{id}/g; s|([^ ])/ |\1 |' | sort -u)
    described=$(/usr/bin/python3 - "$IT_TOP/docs/openapi.yaml" <<'PY'
import re, sys
path = None
for line in open(sys.argv[1]):
    m = re.match(r"  (/\S*):$", line)
    if m:
        path = re.sub(r"\{[a-z_]+\}", "{id}", m.group(1))
        continue
    m = re.match(r"    (get|post|put|delete|head|patch|options):$", line)
    if m and path:
        print(path, m.group(1).upper())
    if re.match(r"\S", line):
        path = None
PY
)
    check_eq "routes described" "$(sort -u <<<"$described")" "$routes"
}

it_main
