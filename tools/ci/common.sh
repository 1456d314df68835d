# Shared by tools/ci/plan.sh and tools/ci/apply.sh (sourced): web identity, the environments of a plan
# directory, and the order they are applied in.

set -eu

# The folder of plan artifacts: <env>.plan.json, <env>.comment/plan-N.md, affected.json, commit.
PLANS_DIR=${LANDFALL_PLANS_DIR:-plans}

# Credentials through the CI's OIDC token: GitLab puts the token in a variable (id_tokens), the AWS
# SDK wants a file. AWS_ROLE_ARN names the role: landfall-plan (read-only) for plans, landfall-apply
# for applies. Nothing to do when the runner already has credentials (GitHub's configure-aws-credentials,
# instance roles) or no token was issued.
use_web_identity() {
    token=${LANDFALL_ID_TOKEN:-}
    [ -n "$token" ] || return 0
    : "${AWS_ROLE_ARN:?set AWS_ROLE_ARN to the role the OIDC token may assume}"
    file=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/landfall-web-identity.$$
    umask 077
    printf '%s' "$token" >"$file"
    export AWS_WEB_IDENTITY_TOKEN_FILE="$file"
    export AWS_ROLE_SESSION_NAME="${AWS_ROLE_SESSION_NAME:-landfall-ci-${CI_JOB_ID:-${GITHUB_RUN_ID:-local}}}"
    # Static keys would win over web identity in the credential chain.
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
    echo "credentials: web identity for $AWS_ROLE_ARN"
}

# The environments named in `landfall affected --format json` output (stdin), one per line, in the
# order they are applied: those in LANDFALL_APPLY_FIRST (default "global": the organization, whose
# outputs the workload environments read) first, then the others by name.
environments_of() {
    all=$(jq -r '.[].environment' | sort -u)
    for first in ${LANDFALL_APPLY_FIRST-global}; do
        printf '%s\n' "$all" | grep -qx "$first" && echo "$first"
    done
    printf '%s\n' "$all" | while read -r env; do
        [ -n "$env" ] || continue
        case " ${LANDFALL_APPLY_FIRST-global} " in *" $env "*) ;; *) echo "$env" ;; esac
    done
}
