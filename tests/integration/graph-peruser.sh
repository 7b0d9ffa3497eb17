#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# graph-peruser.sh - per-user sending through Graph: a non-root user runs
# print2mailctl login --me for a transport = graph account, the token is a
# Graph Mail.Send one stored under user:NAME#graph, the user's job goes out
# through Graph as that user, status lists the login as Graph, and forget
# removes it.
set -u
. "$top_srcdir/tests/integration/graph-lib.sh"
. "$top_srcdir/tests/integration/helper-lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (creates a throwaway user)"
command -v useradd >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1 || skip_all "useradd/setpriv missing"
U1="p2mg$$"
peruser_cleanup() { p2m_cleanup; userdel "$U1" >/dev/null 2>&1; return 0; }
p2m_setup
CTL=$(p2m_public "$CTL") || exit 1  # run below as $U1: must be reachable
trap peruser_cleanup EXIT
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$U1" ||
	{ echo "Bail out! cannot create user $U1"; exit 1; }
as() {
	local u="$1"
	shift
	timeout 60 setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- \
		env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME=/nonexistent "$@"
}

p2m_start_syslog
tokend_config "{\"clients\": {\"pub1\": {\"public_client\": true, \"tenant\": \"contoso.com\"}},
	\"token_lifetime\": 3599, \"device_interval\": 1, \"device_approve_after\": 1,
	\"device_user\": \"$U1@contoso.com\"}"
p2m_start_tokend
p2m_start_graphd
{
	printf '[global]\nstate_dir = %s\nhelper_socket = %s\nkey_file = %s\n\n' \
		"$T/state" "$T/run/helper.sock" "$T/store.key"
	printf '[account me]\ntransport = graph\noauth_flow = device-code\nsend_as = job-user\n'
	printf 'user_address = %%u@contoso.com\ntenant = contoso.com\nclient_id = pub1\n'
	printf 'oauth_authority = %s\nca_file = %s\ngraph_endpoint = %s\n' "$AUTHORITY" "$T/certs/ca.pem" "$GRAPH"
} >"$PRINT2MAIL_CONF"
chmod 0644 "$PRINT2MAIL_CONF"
make_pdf "$T/doc.pdf" 5000
start_helper

out=$(as "$U1" "$CTL" --config "$PRINT2MAIL_CONF" login --me 2>&1); rc=$?
is "$rc" 0 "login --me for a Graph account as non-root $U1"
ok "$([ -f "$T/state/tokens/user%3A$U1%23graph.json" ]; echo $?)" "the login is stored as user:$U1#graph"
like "$(tail -n 1 "$T/tokend/tokens.jsonl")" '"scope": *"https://graph\.microsoft\.com/Mail\.Send"' "the login token is for Graph Mail.Send"

before=$(token_requests)
bk_run "print2mail://me?to=bob@contoso.com" 91 "$U1" "mine" "" "$T/doc.pdf" AUTH_UID="$(id -u "$U1")"
is "$BACKEND_RC" "$RC_OK" "a job of $U1 goes out through Graph"
M=$(last_mail)
is "$(mail_field "$M" From)" "$U1@contoso.com" "From is $U1@contoso.com"
is "$(meta_field "$M" mailbox)" "$U1@contoso.com" "sent as /users/$U1@contoso.com"
is "$(token_requests)" "$before" "the job made no token request"

# graph401: the user's token revoked before its expiry: one forced refresh
# (refresh_token grant) on the job's next attempt, then delivered
graph_script '{"revoke_tokens": 1}'
bk_run "print2mail://me?to=bob@contoso.com" 92 "$U1" "mine" "" "$T/doc.pdf" AUTH_UID="$(id -u "$U1")"
is "$BACKEND_RC" "$RC_RETRY" "$U1's revoked Graph token: exit RETRY"
bk_run "print2mail://me?to=bob@contoso.com" 92 "$U1" "mine" "" "$T/doc.pdf" AUTH_UID="$(id -u "$U1")"
is "$BACKEND_RC" "$RC_OK" "$U1's revoked Graph token: the retry is delivered"
is "$(token_requests)" "$((before + 1))" "$U1's revoked Graph token: exactly one new token request"
graph_script '{}'

like "$("$CTL" status)" "login user:$U1#graph: Microsoft Graph, per-user login" "status lists the Graph login"
"$CTL" forget "$U1" >/dev/null 2>&1
ok "$([ ! -e "$T/state/tokens/user%3A$U1%23graph.json" ]; echo $?)" "forget removes the Graph login"
no_token_in "$(cat "$T/helper.log" "$T/all.err")" "no token in the helper log or backend output"
done_testing
