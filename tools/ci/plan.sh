#!/bin/sh
# The merge-request job: validate every environment, find the environments x stacks the change
# affects, plan each affected environment with the read-only plan identity, and leave the plan files
# and the Markdown comment bodies in $LANDFALL_PLANS_DIR (default plans/) as artifacts.
#
#   LANDFALL_BASE        the revision to compare with (GitLab: $CI_MERGE_REQUEST_DIFF_BASE_SHA,
#                        GitHub: the pull request's base sha)
#   LANDFALL_ID_TOKEN    the CI's OIDC token (optional), with AWS_ROLE_ARN the landfall-plan role
#   LANDFALL_POST        gitlab or github: post the comment when a token is present (see post_comment)

. "$(dirname "$0")/common.sh"
: "${LANDFALL_BASE:?set LANDFALL_BASE to the merge request's base revision}"

rm -rf "$PLANS_DIR"
mkdir -p "$PLANS_DIR"
git rev-parse HEAD >"$PLANS_DIR/commit"

for env in $(ls environments); do
    [ -f "environments/$env/env.toml" ] && landfall validate --env "$env"
done

landfall affected --base "$LANDFALL_BASE"
landfall affected --base "$LANDFALL_BASE" --format json >"$PLANS_DIR/affected.json"
environments_of <"$PLANS_DIR/affected.json" >"$PLANS_DIR/environments"
if [ ! -s "$PLANS_DIR/environments" ]; then
    echo "No environment is affected: nothing to plan."
    exit 0
fi

use_web_identity
while read -r env; do
    # An environment the change removes has no configuration to plan: its resources stay until
    # someone runs `landfall destroy` for it on purpose.
    if [ ! -f "environments/$env/env.toml" ]; then
        echo "environment $env was removed: not planned (destroy it on purpose first)"
        continue
    fi
    echo "== plan $env"
    landfall plan --env "$env" --out "$PLANS_DIR/$env.plan.json"
    landfall show "$PLANS_DIR/$env.plan.json" --format markdown --parts-dir "$PLANS_DIR/$env.comment"
done <"$PLANS_DIR/environments"

. "$(dirname "$0")/comment.sh"
post_comments
