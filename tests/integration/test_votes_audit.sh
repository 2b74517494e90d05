#!/usr/bin/env bash
# `showcasectl votes`, the admin's vote audit, against real PostgreSQL,
# Redis and the API: a video pushed by twenty fresh accounts from one
# network within a minute is named, an honest one with as many votes is
# not; voiding the network moves the votes to votes_voided in one
# statement, bumps the rankings' cache generation, and the public
# rankings follow at once.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
# long enough that only the generation bump can explain a fresh ranking
export API_RANKINGS_CACHE_S=300
it_start_api api
API="http://127.0.0.1:$IT_API_PORT"

rcli() { redis-cli -p "$IT_REDIS_PORT" "$@"; }

# the rankings' cache generation (0 before the first bump)
gen() {
    local g
    g=$(rcli GET showcase:rankings:gen)
    echo "${g:-0}"
}

# rank_of PLAYER_ID: "POSITION VOTES" of a player in the public rankings
rank_of() {
    curl -s "$API/api/public/rankings" |
        jq -r --argjson p "$1" '.[] | select(.player_id == $p) | "\(.position) \(.votes)"'
}

# --- fixtures: made in the database, times from its clock ----------------

HASH_A=$(printf 'net-a' | md5sum | cut -c1-32)
it_psql >/dev/null <<SQL || it_fail "fixtures"
INSERT INTO users (email, password_hash, first_name, last_name, city, country, created_at)
VALUES ('owner-a@example.com', 'x', 'Ana', 'Pushed', 'Cali', 'CO', now() - interval '60 days'),
       ('owner-b@example.com', 'x', 'Bea', 'Honest', 'Cali', 'CO', now() - interval '60 days');
INSERT INTO videos (user_id, title, is_public, status, original_key, processed_key, processed_at)
SELECT id, CASE email WHEN 'owner-a@example.com' THEN 'Video A: a crossover drill with a long title'
                      ELSE 'Video B' END,
       true, 'processed', 'originals/x/source.mp4', 'processed/x/1/video.mp4', now()
FROM users;
-- A: twenty accounts made two minutes before each votes, one network,
-- the votes 2 s apart (38 s in all), half an hour ago
INSERT INTO users (email, password_hash, first_name, last_name, city, country, created_at)
SELECT 'a-voter-' || i || '@example.com', 'x', 'V', 'A', 'Cali', 'CO',
       now() - interval '30 minutes' + i * interval '2 seconds' - interval '2 minutes'
FROM generate_series(1, 20) i;
INSERT INTO votes (user_id, video_id, created_at, network_hash, agent_hash)
SELECT u.id, v.id, u.created_at + interval '2 minutes', '$HASH_A', md5('agent')
FROM users u, videos v JOIN users o ON o.id = v.user_id
WHERE u.email LIKE 'a-voter-%' AND o.email = 'owner-a@example.com';
-- B: twenty accounts thirty days old, twenty networks, over an hour
INSERT INTO users (email, password_hash, first_name, last_name, city, country, created_at)
SELECT 'b-voter-' || i || '@example.com', 'x', 'V', 'B', 'Cali', 'CO', now() - interval '30 days'
FROM generate_series(1, 20) i;
INSERT INTO votes (user_id, video_id, created_at, network_hash, agent_hash)
SELECT u.id, v.id, now() - (split_part(split_part(u.email, '@', 1), '-', 3))::int * interval '3 minutes',
       md5('net-b-' || u.email), md5('agent')
FROM users u, videos v JOIN users o ON o.id = v.user_id
WHERE u.email LIKE 'b-voter-%' AND o.email = 'owner-b@example.com';
SQL
VID_A=$(it_psql -c "SELECT v.id FROM videos v JOIN users u ON u.id = v.user_id WHERE u.email = 'owner-a@example.com'")
VID_B=$(it_psql -c "SELECT v.id FROM videos v JOIN users u ON u.id = v.user_id WHERE u.email = 'owner-b@example.com'")
OWNER_A=$(it_psql -c "SELECT id FROM users WHERE email = 'owner-a@example.com'")
OWNER_B=$(it_psql -c "SELECT id FROM users WHERE email = 'owner-b@example.com'")
HASH_B1=$(it_psql -c "SELECT network_hash FROM votes WHERE video_id = '$VID_B' ORDER BY created_at LIMIT 1")

votes_of() { it_psql -c "SELECT count(*) FROM votes WHERE video_id = '$1'"; }
voided_of() { it_psql -c "SELECT count(*) FROM votes_voided WHERE video_id = '$1'"; }

# --- the report ----------------------------------------------------------

test_fixtures_are_as_described() {
    check_eq "votes" "$(votes_of "$VID_A") $(votes_of "$VID_B")" "20 20"
    check_eq "A: within a minute, accounts 2 min old" \
        "$(it_psql -c "SELECT max(vo.created_at) - min(vo.created_at) < interval '1 minute',
                              bool_and(vo.created_at - u.created_at = interval '2 minutes')
                       FROM votes vo JOIN users u ON u.id = vo.user_id WHERE video_id = '$VID_A'")" 't|t'
    check_eq "B: over an hour, 20 networks" \
        "$(it_psql -c "SELECT max(created_at) - min(created_at) > interval '50 minutes',
                              count(DISTINCT network_hash)
                       FROM votes WHERE video_id = '$VID_B'")" 't|20'
}

test_suspicious_names_the_pushed_video_and_not_the_honest_one() {
    local out rc line
    out=$("$CTL" votes suspicious 2>"$IT_DIR/err"); rc=$?
    check_eq "exit" "$rc" 0
    check_contains "a header" "$(head -n 1 <<<"$out")" "VIDEO_ID"
    check_contains "A named" "$out" "$VID_A"
    case $out in *"$VID_B"*) it_fail "B named: $out" ;; esac
    line=$(awk -v id="$VID_A" '$1 == id' <<<"$out")
    # VIDEO_ID OWNER VOTES PEAK_PER_MIN NETWORKS TOP_NETWORK TOP_VOTES FRESH SIGNS TITLE
    check_eq "A's evidence" "$(awk '{ print $2, $3, $4, $5, $6, $7, $8, $9 }' <<<"$line")" \
        "$OWNER_A 20 20 1 $HASH_A 20 20 burst,few_networks,fresh_accounts"
    check_eq "the title, cut to 40 characters" "$(cut -d' ' -f10- <<<"$(tr -s ' ' <<<"$line")")" \
        "Video A: a crossover drill with a long t"
    check_eq "A's networks, indented" "$(grep -A3 "^$VID_A" <<<"$out" | grep '^ ' | tr -s ' ')" \
        " network $HASH_A 20"
}

test_suspicious_json_has_the_fields() {
    local out
    out=$("$CTL" votes suspicious --json)
    check_eq "exit" "$?" 0
    check "parses" jq -e . <<<"$out"
    check_eq "one video" "$(jq length <<<"$out")" 1
    check_eq "its fields" "$(jq -c '.[0] | [.video_id, .title, .owner_id, .votes, .peak_per_minute,
            .networks, .top_network, .top_network_votes, .fresh_account_votes, .signs, .top_networks]' <<<"$out")" \
        "[\"$VID_A\",\"Video A: a crossover drill with a long title\",$OWNER_A,20,20,1,\"$HASH_A\",20,20,[\"burst\",\"few_networks\",\"fresh_accounts\"],[{\"network_hash\":\"$HASH_A\",\"votes\":20}]]"
}

test_suspicious_with_nothing_flagged_exits_0() {
    local out rc
    out=$("$CTL" votes suspicious --min-votes 21 2>"$IT_DIR/err"); rc=$?
    check_eq "exit" "$rc" 0
    check_eq "nothing on stdout" "$out" ""
    check_contains "said on stderr" "$(cat "$IT_DIR/err")" "no suspicious videos"
    check_eq "json: an empty array" "$("$CTL" votes suspicious --since 60 --json 2>/dev/null)" "[]"
    "$CTL" votes suspicious --since abc >/dev/null 2>"$IT_DIR/err"
    check_eq "bad --since: exit" "$?" 2
    check_contains "bad --since: usage" "$(cat "$IT_DIR/err")" "usage: showcasectl votes"
    "$CTL" votes frobnicate >/dev/null 2>&1
    check_eq "unknown subcommand: exit" "$?" 2
}

# --- voiding -------------------------------------------------------------

test_void_refuses_bad_arguments() {
    local g out rc
    g=$(gen)
    out=$("$CTL" votes void not-a-video --network "$HASH_A" 2>&1); rc=$?
    check_eq "bad id: exit" "$rc" 2
    check_contains "bad id: message" "$out" "not a video id"
    out=$("$CTL" votes void "$VID_A" --network "${HASH_A^^}" 2>&1); rc=$?
    check_eq "upper-case hash: exit" "$rc" 2
    check_contains "bad hash: message" "$out" "32 lower-case hex"
    out=$("$CTL" votes void "$VID_A" --network "${HASH_A:0:31}" 2>&1); rc=$?
    check_eq "short hash: exit" "$rc" 2
    out=$("$CTL" votes void "$VID_A" 2>&1); rc=$?
    check_eq "no --network: exit" "$rc" 2
    check_contains "no --network: message" "$out" "--network"
    out=$("$CTL" votes void "$VID_A" --network "$HASH_A" --reason '' 2>&1); rc=$?
    check_eq "empty reason: exit" "$rc" 2
    out=$("$CTL" votes void 00000000-0000-0000-0000-000000000000 --network "$HASH_A" 2>&1); rc=$?
    check_eq "no such video: exit" "$rc" 1
    check_contains "no such video: message" "$out" "no such video"
    check_eq "nothing voided" "$(votes_of "$VID_A") $(voided_of "$VID_A")" "20 0"
    check_eq "generation unchanged" "$(gen)" "$g"
}

test_database_failure_exits_1_with_its_message() {
    local out rc
    out=$(DATABASE_URL="postgresql://showcase@127.0.0.1:$IT_PG_PORT/no_such_db" \
        "$CTL" votes void "$VID_A" --network "$HASH_A" 2>&1); rc=$?
    check_eq "void: exit" "$rc" 1
    check_contains "void: PostgreSQL's message" "$out" 'database "no_such_db" does not exist'
    out=$(DATABASE_URL="postgresql://showcase@127.0.0.1:$IT_PG_PORT/no_such_db" \
        "$CTL" votes suspicious 2>&1); rc=$?
    check_eq "suspicious: exit" "$rc" 1
    check_contains "suspicious: PostgreSQL's message" "$out" 'database "no_such_db" does not exist'
    check_eq "nothing voided" "$(votes_of "$VID_A") $(voided_of "$VID_A")" "20 0"
}

test_void_dry_run_changes_nothing() {
    local g out
    g=$(gen)
    out=$("$CTL" votes void "$VID_A" --network "$HASH_A" --dry-run)
    check_eq "exit" "$?" 0
    check_contains "counted" "$out" "would void 20 votes"
    check_contains "and what stays" "$out" "20 votes now"
    check_eq "nothing voided" "$(votes_of "$VID_A") $(voided_of "$VID_A")" "20 0"
    check_eq "generation unchanged" "$(gen)" "$g"
}

test_rankings_before_the_void_put_a_first() {
    check_eq "A's owner first" "$(curl -s "$API/api/public/rankings" | jq -c '.[0] | [.player_id, .votes]')" \
        "[$OWNER_A,20]"
    check_eq "B's owner" "$(rank_of "$OWNER_B")" "1 20"
    check "cached in Redis" test -n "$(rcli --scan --pattern 'showcase:rankings:*:*')"
}

# Without Redis the void still happens (exit 0, a warning); the cached
# rankings then keep the old count: what the generation bump is for.
test_void_without_redis_warns_and_the_rankings_stay_stale() {
    local g out rc
    g=$(gen)
    out=$(REDIS_URL=redis://127.0.0.1:1/0 "$CTL" votes void "$VID_B" --network "$HASH_B1" 2>"$IT_DIR/err"); rc=$?
    check_eq "exit" "$rc" 0
    check_contains "voided" "$out" "voided 1 vote"
    check_contains "warned" "$(cat "$IT_DIR/err")" "API_RANKINGS_CACHE_S"
    check_eq "gone from votes" "$(votes_of "$VID_B") $(voided_of "$VID_B")" "19 1"
    check_eq "generation unchanged" "$(gen)" "$g"
    sleep 1.5    # past each instance's own copy (<= 1 s)
    check_eq "B's owner still shown with 20" "$(rank_of "$OWNER_B")" "1 20"
}

test_void_moves_the_votes_and_bumps_the_generation() {
    local g out rc
    g=$(gen)
    out=$(SUDO_USER=alice "$CTL" votes void "$VID_A" --network "$HASH_A" --reason 'one network, fresh accounts'); rc=$?
    check_eq "exit" "$rc" 0
    check_contains "voided" "$out" "voided 20 votes"
    check_contains "left" "$out" "0 votes left"
    check_eq "votes for A" "$(votes_of "$VID_A")" 0
    check_eq "recorded" "$(it_psql -c "SELECT count(*), count(DISTINCT user_id), min(reason), min(voided_by),
                                              bool_and(network_hash = '$HASH_A' AND agent_hash = md5('agent')),
                                              bool_and(voided_at > created_at + interval '20 minutes')
                                       FROM votes_voided WHERE video_id = '$VID_A'")" \
        "20|20|one network, fresh accounts|showcasectl (alice)|t|t"
    check_eq "the vote times kept" "$(it_psql -c "SELECT max(created_at) - min(created_at) FROM votes_voided
                                                  WHERE video_id = '$VID_A'")" "00:00:38"
    check_eq "generation bumped by one" "$(gen)" "$((g + 1))"
    out=$(env -u SUDO_USER "$CTL" votes void "$VID_B" --network "$(it_psql -c "SELECT network_hash FROM votes
            WHERE video_id = '$VID_B' ORDER BY created_at LIMIT 1")" 2>&1)
    check_eq "without SUDO_USER: the OS user" "$(it_psql -c "SELECT voided_by || '|' || reason FROM votes_voided
            WHERE video_id = '$VID_B' ORDER BY voided_at DESC LIMIT 1")" \
        "showcasectl ($(id -un))|voided by an admin: suspicious network"
}

test_rankings_after_the_void_do_not_put_a_first() {
    local i first=
    # the generation is new: within each instance's own copy (<= 1 s)
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
        first=$(curl -s "$API/api/public/rankings" | jq -c '.[0] | [.player_id, .votes]')
        [ "$first" = "[$OWNER_B,18]" ] && break
        sleep 0.2
    done
    check_eq "B's owner first" "$first" "[$OWNER_B,18]"
    check_eq "A's owner" "$(rank_of "$OWNER_A")" "2 0"
}

test_second_void_voids_nothing() {
    local g out
    g=$(gen)
    out=$("$CTL" votes void "$VID_A" --network "$HASH_A")
    check_eq "exit" "$?" 0
    check_contains "none" "$out" "voided 0 votes"
    check_eq "still 20 recorded" "$(voided_of "$VID_A")" 20
    check_eq "generation unchanged" "$(gen)" "$g"
    check_eq "A no longer named" "$("$CTL" votes suspicious --json 2>/dev/null)" "[]"
}

it_main
