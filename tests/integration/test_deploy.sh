#!/usr/bin/env bash
# The deployment files, checked offline: the systemd units verify, and the
# properties that matter hold (hardening, a stop timeout above the
# worker's grace period, migrations before the services).
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

UNITS="$IT_TOP/deploy/systemd"

# units_for_test DIR: the units with ExecStart pointing at the built
# programs (systemd-analyze checks that the binaries exist).
units_for_test() {
    local f
    mkdir -p "$1"
    for f in "$UNITS"/*.service "$UNITS"/*.timer; do
        sed "s|/usr/local/bin/|$BIN_DIR/|" "$f" >"$1/$(basename "$f")"
    done
}

# default_of NAME: a setting's default, from the configuration table.
default_of() {
    "$BIN_DIR/showcasectl" config | awk -F'|' -v n="\`$1\`" '$2 ~ n { gsub(/[ `]/, "", $3); print $3 }'
}

test_systemd_units_verify_cleanly() {
    units_for_test "$IT_DIR/units"
    check_eq "systemd-analyze verify says nothing" \
        "$(systemd-analyze verify "$IT_DIR"/units/*.service "$IT_DIR"/units/*.timer 2>&1)" ""
    # the check can fail: a bad value is reported
    sed -i 's/^Restart=on-failure/Restart=sometimes/' "$IT_DIR/units/showcase-api.service"
    check_contains "a bad unit is reported" \
        "$(systemd-analyze verify "$IT_DIR/units/showcase-api.service" 2>&1)" "restart specifier"
}

test_worker_stop_timeout_exceeds_its_grace_period() {
    local grace timeout
    grace=$(default_of WORKER_GRACE_S)
    timeout=$(sed -n 's/^TimeoutStopSec=//p' "$UNITS/showcase-worker.service")
    check "TimeoutStopSec $timeout > WORKER_GRACE_S $grace" test "$timeout" -gt "$grace"
    check_eq "SIGTERM to the worker only; its children die with it" \
        "$(grep -E '^(KillSignal|KillMode)=' "$UNITS/showcase-worker.service" | xargs)" \
        "KillSignal=SIGTERM KillMode=mixed"
}

test_units_are_hardened_and_ordered() {
    local f name
    for f in "$UNITS"/*.service; do
        name=$(basename "$f")
        check_contains "$name NoNewPrivileges" "$(cat "$f")" "NoNewPrivileges=yes"
        check_contains "$name ProtectSystem" "$(cat "$f")" "ProtectSystem=strict"
        check_contains "$name runs unprivileged" "$(cat "$f")" "User=showcase"
        check_contains "$name reads its settings from a file" "$(cat "$f")" \
            "EnvironmentFile=/etc/showcase/showcase.env"
    done
    for name in showcase-api showcase-worker; do
        check_contains "$name after migrations" "$(grep '^After=' "$UNITS/$name.service")" \
            "showcase-migrate.service"
        check_contains "$name restarts" "$(cat "$UNITS/$name.service")" "Restart=on-failure"
    done
    check_eq "no secrets in the units" "$(grep -ciE 'secret|password|AKIA' "$UNITS"/*.service | \
        awk -F: '{ s += $2 } END { print s }')" 0
}

it_main
