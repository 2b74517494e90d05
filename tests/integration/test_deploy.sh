#!/usr/bin/env bash
# The deployment files, checked offline: the systemd units verify, the
# CloudFormation template lints and has the properties that matter
# (hardening, stop and scale-in timeouts above the worker's grace period,
# migrations before the services, nothing stateful public, no static
# keys), and the compose file is accepted.
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

test_api_stop_timeout_exceeds_its_grace_period() {
    local grace timeout
    grace=$(default_of API_GRACE_S)
    timeout=$(sed -n 's/^TimeoutStopSec=//p' "$UNITS/showcase-api.service")
    check "TimeoutStopSec $timeout > API_GRACE_S $grace" test "$timeout" -gt "$grace"
}

TEMPLATE="$IT_TOP/deploy/aws/showcase.yaml"
CFN_LINT="$IT_TOP/deploy/local/node_modules/.bin/cfn-lint"

# lint FILE: cfn-lint's messages, one a line, without colours
lint() {
    "$CFN_LINT" validate "$1" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | sed -n 's/^Message: //p'
}

# unknown_messages FILE: messages not in deploy/aws/cfn-lint-known.txt
unknown_messages() {
    lint "$1" | grep -v -x -F -f <(grep -v '^#' "$IT_TOP/deploy/aws/cfn-lint-known.txt") || true
}

test_cloudformation_template_lints() {
    check "cfn-lint is installed" test -x "$CFN_LINT"
    check_eq "messages besides the known ones" "$(unknown_messages "$TEMPLATE")" ""
    # the linter does find mistakes: a misspelt property and a dangling Ref
    sed -e 's/^      MinSize: !Ref WorkerMinSize/      MinSzie: !Ref WorkerMinSize/' \
        -e 's/AutoScalingGroupName: !Ref WorkerGroup/AutoScalingGroupName: !Ref WorkerGrup/' \
        "$TEMPLATE" >"$IT_DIR/broken.yaml"
    check_contains "a misspelt property is reported" "$(unknown_messages "$IT_DIR/broken.yaml")" "MinSzie"
    check_contains "a dangling Ref is reported" "$(unknown_messages "$IT_DIR/broken.yaml")" "WorkerGrup"
}

test_cloudformation_properties_that_matter() {
    local grace stop out
    grace=$(default_of WORKER_GRACE_S)
    stop=$(sed -n 's/^TimeoutStopSec=//p' "$UNITS/showcase-worker.service")
    out=$(/usr/bin/python3 "$IT_TOP/tests/integration/tools/cfn_check.py" "$TEMPLATE" "$grace" "$stop")
    check "every check passes" test $? = 0
    grep -c '^ok' <<<"$out" | sed 's/^/    properties checked: /'
    grep '^FAIL' <<<"$out" | sed 's/^/    /'
    # and the checks can fail: a public database, a short hook, a static
    # key, an old TLS policy
    sed -e 's/PubliclyAccessible: false/PubliclyAccessible: true/' \
        -e 's/ELBSecurityPolicy-TLS13-1-2-2021-06/ELBSecurityPolicy-2016-08/' \
        -e 's/MinValue: 180/MinValue: 100/' \
        -e 's/ROLE=worker/ROLE=worker\n              AWS_SECRET_ACCESS_KEY=x/' \
        "$TEMPLATE" >"$IT_DIR/bad.yaml"
    out=$(/usr/bin/python3 "$IT_TOP/tests/integration/tools/cfn_check.py" "$IT_DIR/bad.yaml" "$grace" "$stop")
    check_contains "public database caught" "$out" "FAIL Database: not public"
    check_contains "short hook caught" "$out" "FAIL termination hook's lowest timeout 100 s"
    check_contains "static key caught" "$out" "FAIL no key variables"
    check_contains "old TLS policy caught" "$out" "FAIL an HTTPS listener"
    check_contains "sign-in wired" "$(/usr/bin/python3 "$IT_TOP/tests/integration/tools/cfn_check.py" \
        "$TEMPLATE" "$grace" "$stop")" "ok   the API's API_OIDC_ISSUER and API_OIDC_AUDIENCE are the pool's"
    sed -e 's/OidcAudience: !If \[HasCognito, !Ref UserPoolClient, ""\]/OidcAudience: !If [HasCognito, !Ref UserPool, ""]/' \
        -e 's/LocalAccountsFlag: !If \[HasCognito, !If \[LocalAccountsOff, "0", "1"\], "1"\]/LocalAccountsFlag: !If [LocalAccountsOff, "0", "1"]/' \
        "$TEMPLATE" >"$IT_DIR/bad-cognito.yaml"
    out=$(/usr/bin/python3 "$IT_TOP/tests/integration/tools/cfn_check.py" "$IT_DIR/bad-cognito.yaml" "$grace" "$stop")
    check_contains "the pool id as the audience caught" "$out" "FAIL the API's API_OIDC_ISSUER and API_OIDC_AUDIENCE"
    check_contains "local accounts off without the pool caught" "$out" "FAIL API_LOCAL_ACCOUNTS is 0 only"
    # a fleet that cannot scale out from zero workers or miss stuck videos:
    # the backlog timer on workers only (nothing publishes while none
    # runs), an API role that may not publish, no step policy behind the
    # no-worker alarm, no stuck-videos alarm
    sed -e '/^        systemctl enable --now showcase-backlog.timer$/d' \
        -e 's/^          systemctl enable --now showcase-worker.service$/& showcase-backlog.timer/' \
        -e '/^  ApiRole:/,/^  WorkerRole:/s/"cloudwatch:namespace": Showcase/"cloudwatch:namespace": Other/' \
        -e 's/AlarmActions: \[!Ref WorkerScaleFromZero\]/AlarmActions: [!Ref AlarmTopic]/' \
        -e '/^  StuckVideosAlarm:/,/^  Api5xxAlarm:/{/^  Api5xxAlarm:/!d}' \
        "$TEMPLATE" >"$IT_DIR/bad-scaling.yaml"
    out=$(/usr/bin/python3 "$IT_TOP/tests/integration/tools/cfn_check.py" "$IT_DIR/bad-scaling.yaml" "$grace" "$stop")
    check_contains "no backlog timer on API instances caught" "$out" \
        "FAIL ApiLaunchTemplate: user data starts showcase-migrate.service showcase-api.service showcase-backlog.timer (it starts showcase-migrate.service showcase-api.service)"
    check_contains "the workers still start it" "$out" "ok   WorkerLaunchTemplate: user data starts"
    check_contains "API role outside the namespace caught" "$out" "FAIL ApiRole may PutMetricData"
    check_contains "no scale-out from zero caught" "$out" "FAIL the worker group scales out from zero"
    check_contains "no stuck-videos alarm caught" "$out" "FAIL an alarm on StuckVideos"
}

# The API and the load balancer agree on timeouts: the API's idle timeout
# outlasts the balancer's, the health check is liveness, and scale-in waits
# for requests in flight as long as SIGTERM gives them.
test_api_timeouts_fit_the_load_balancer() {
    local args out
    args=("$(default_of WORKER_GRACE_S)" "$(sed -n 's/^TimeoutStopSec=//p' "$UNITS/showcase-worker.service")"
          "$(default_of API_IDLE_TIMEOUT_S)" "$(default_of API_GRACE_S)")
    out=$(/usr/bin/python3 "$IT_TOP/tests/integration/tools/cfn_check.py" "$TEMPLATE" "${args[@]}")
    check "every check passes" test $? = 0
    check_contains "idle timeouts" "$out" "ok   LoadBalancer: the API's idle timeout 960 s outlasts the load balancer's 900 s"
    check_contains "liveness" "$out" "ok   the API's health check is /health/live"
    check_contains "deregistration" "$out" "ok   deregistration delay 90 s >= API_GRACE_S 60 s"
    # and the checks can fail: a balancer that waits longer than the API,
    # a deep health check, a short deregistration, a shorter API timeout
    # set in the user data
    sed -e 's/{Key: idle_timeout.timeout_seconds, Value: "900"}/{Key: idle_timeout.timeout_seconds, Value: "1000"}/' \
        -e 's|HealthCheckPath: /health/live|HealthCheckPath: /health/ready|' \
        -e 's/{Key: deregistration_delay.timeout_seconds, Value: "90"}/{Key: deregistration_delay.timeout_seconds, Value: "30"}/' \
        "$TEMPLATE" >"$IT_DIR/bad-api.yaml"
    out=$(/usr/bin/python3 "$IT_TOP/tests/integration/tools/cfn_check.py" "$IT_DIR/bad-api.yaml" "${args[@]}")
    check_contains "idle timeout caught" "$out" "FAIL LoadBalancer: the API's idle timeout 960 s outlasts the load balancer's 1000 s"
    check_contains "deep health check caught" "$out" "FAIL the API's health check is /health/live, which touches no dependency (it is /health/ready)"
    check_contains "short deregistration caught" "$out" "FAIL deregistration delay 30 s >= API_GRACE_S 60 s"
    sed -e 's/^            echo "API_HOST=0.0.0.0"$/&\n            echo "API_IDLE_TIMEOUT_S=600"/' \
        "$TEMPLATE" >"$IT_DIR/bad-api-idle.yaml"
    out=$(/usr/bin/python3 "$IT_TOP/tests/integration/tools/cfn_check.py" "$IT_DIR/bad-api-idle.yaml" "${args[@]}")
    check_contains "a lower API_IDLE_TIMEOUT_S in the user data caught" "$out" \
        "FAIL LoadBalancer: the API's idle timeout 600 s outlasts the load balancer's 900 s"
}

# What runs on AWS carries no key: instances use their role.  (The
# one-host compose stack names the local S3 server's own fixed keys.)
test_no_static_keys_in_deployment_files() {
    local hits
    hits=$(grep -r -l -E '(AKIA|ASIA)[A-Z0-9]{16}|AWS_SECRET_ACCESS_KEY|aws_secret_access_key' \
        "$IT_TOP/deploy/aws" "$IT_TOP/deploy/systemd" || true)
    check_eq "files with keys" "$hits" ""
    check_eq "real-looking key ids anywhere in deploy/" \
        "$(grep -r -l -E '(AKIA|ASIA)[A-Z0-9]{16}' "$IT_TOP/deploy" --exclude-dir=node_modules || true)" ""
}

COMPOSE="$IT_TOP/deploy/docker/compose.yaml"

test_compose_file_is_accepted() {
    local out grace
    check "docker-compose is installed" command -v docker-compose
    out=$(JWT_SECRET=x docker-compose -f "$COMPOSE" config 2>&1)
    check "docker-compose config accepts it" test $? = 0
    check_contains "the services" "$(JWT_SECRET=x docker-compose -f "$COMPOSE" config --services | sort | tr '\n' ' ')" \
        "api migrate postgres redis s3 worker"
    out=$(env -u JWT_SECRET docker-compose -f "$COMPOSE" config 2>&1)
    check_contains "JWT_SECRET is required" "$out" "set JWT_SECRET to 32 random bytes or more"
    # the worker's stop timeout outlasts its grace period, as in systemd
    grace=$(default_of WORKER_GRACE_S)
    check "stop_grace_period 90s > WORKER_GRACE_S $grace" \
        /usr/bin/python3 -c "import sys, yaml; w = yaml.safe_load(open('$COMPOSE'))['services']['worker']; \
sys.exit(0 if int(w['stop_grace_period'].rstrip('s')) > int(w['environment']['WORKER_GRACE_S']) >= $grace else 1)"
    # broken YAML is refused
    sed 's/^services:/services/' "$COMPOSE" >"$IT_DIR/bad-compose.yaml"
    check "a broken file is refused" bash -c "! JWT_SECRET=x docker-compose -f '$IT_DIR/bad-compose.yaml' config -q 2>/dev/null"
}

test_scaling_simulation_shows_the_wait() {
    local sim="$IT_TOP/deploy/aws/simulate-scaling.py" small big
    small=$(/usr/bin/python3 "$sim" --max 6 | sed -n 's/.*longest \([0-9.]*\) min.*/\1/p')
    big=$(/usr/bin/python3 "$sim" --max 12 | sed -n 's/.*longest \([0-9.]*\) min.*/\1/p')
    check "the longest wait is printed ($small and $big min)" test -n "$small" -a -n "$big"
    check "more workers, shorter waits" awk -v a="$big" -v b="$small" 'BEGIN { exit !(a < b) }'
    check "the default limit keeps the longest wait under 5 min" awk -v a="$big" 'BEGIN { exit !(a < 5) }'
}

test_dockerfiles_are_multi_stage_debian_12() {
    local f
    for f in "$IT_TOP"/deploy/docker/Dockerfile.api "$IT_TOP"/deploy/docker/Dockerfile.worker; do
        check_eq "$(basename "$f"): stages" "$(grep -c '^FROM debian:12' "$f")" 2
        check_contains "$(basename "$f"): runs as a user" "$(cat "$f")" "USER showcase"
    done
}

it_main
