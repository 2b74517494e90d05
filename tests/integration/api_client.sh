# api_client.sh - the API as the integration tests call it (sourced after
# harness.sh, with API set to the instance's base URL).
# shellcheck shell=bash

# call METHOD PATH [curl args...]: prints the body, then the status on
# its own last line.
call() {
    local method=$1 path=$2
    shift 2
    curl -s -X "$method" -w '\n%{http_code}' "$@" "$API$path"
}
status_of() { tail -n 1 <<<"$1"; }
body_of() { sed '$d' <<<"$1"; }
field() { body_of "$1" | jq -r "$2"; }

# post_json PATH JSON [TOKEN]
post_json() {
    local auth=()
    [ -n "${3:-}" ] && auth=(-H "Authorization: Bearer $3")
    call POST "$1" -H 'Content-Type: application/json' "${auth[@]}" --data-binary "$2"
}

# signup EMAIL [CITY]: a user with password "secret123"
signup() {
    post_json /api/auth/signup "$(jq -cn --arg e "$1" --arg c "${2:-Bogota}" \
        '{first_name:"Ana",last_name:"Diaz",email:$e,password1:"secret123",password2:"secret123",city:$c,country:"CO"}')"
}

# token EMAIL: log in, print the access token
token() {
    field "$(post_json /api/auth/login "{\"email\":\"$1\",\"password\":\"secret123\"}")" .access_token
}

# upload TOKEN FILE TITLE [extra curl args]
upload() {
    local tok=$1 file=$2 title=$3
    shift 3
    call POST /api/videos/upload -H "Authorization: Bearer $tok" \
        -F "video_file=@$file;type=video/mp4" -F "title=$title" "$@"
}

# wait_processed TOKEN ID SECONDS: poll the detail until processed/failed
wait_processed() {
    local deadline=$((SECONDS + $3)) st
    while :; do
        st=$(field "$(call GET "/api/videos/$2" -H "Authorization: Bearer $1")" .status)
        case $st in processed | failed) echo "$st"; return ;; esac
        [ $SECONDS -ge $deadline ] && { echo "$st"; return; }
        sleep 0.5
    done
}
