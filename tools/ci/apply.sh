#!/bin/sh
# The protected-branch job: apply exactly the plan files the merge request's pipeline made, one
# environment at a time, in the order plan.sh recorded. landfall refuses a plan that no longer matches
# state or main's configuration (stale, or tampered with); this job then fails, naming it, and
# nothing of that environment is changed: plan again in a new merge request.
#
#   LANDFALL_PLANS_DIR   where fetch-plans.sh put the artifacts (default plans/)
#   LANDFALL_ID_TOKEN    the CI's OIDC token (optional), with AWS_ROLE_ARN the landfall-apply role

. "$(dirname "$0")/common.sh"

if [ ! -f "$PLANS_DIR/environments" ]; then
    echo "error: no plan artifacts in $PLANS_DIR: was this commit merged from a merge request whose pipeline planned it?" >&2
    exit 1
fi
if [ ! -s "$PLANS_DIR/environments" ]; then
    echo "The merge request affected no environment: nothing to apply."
    exit 0
fi

use_web_identity
while read -r env; do
    plan="$PLANS_DIR/$env.plan.json"
    [ -f "$plan" ] || { echo "environment $env: no plan file (removed environment): skipped"; continue; }
    echo "== apply $env: $(cat "$PLANS_DIR/commit" 2>/dev/null || echo unknown commit)"
    landfall show "$plan"
    if ! landfall apply "$plan" --format text; then
        echo "error: the plan of environment $env was not applied (see above); environments after it were not started" >&2
        exit 1
    fi
done <"$PLANS_DIR/environments"
