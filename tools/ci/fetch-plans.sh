#!/bin/sh
# The protected-branch job's first step: fetch the plan artifacts of the merge request this commit
# merged into $LANDFALL_PLANS_DIR (default plans/).
#
# The plans were made by the merge request's pipeline for its head commit: for a merge commit that
# is the second parent, for a fast-forward merge the commit itself. Where they come from:
#   LANDFALL_PLANS_FROM  a folder holding one folder per planned commit (plans copied there by the
#                        merge-request job, or by a test standing in for GitLab's artifact storage)
#   otherwise (GitLab)   the API: the merge request of $CI_COMMIT_SHA, then the artifacts of its
#                        latest `plan` job, with LANDFALL_GITLAB_TOKEN (read_api)
# Whatever arrives is untrusted input: landfall apply re-derives it from main's configuration and
# state and refuses any difference.

. "$(dirname "$0")/common.sh"

if [ "$(git rev-list --parents -n 1 HEAD | wc -w)" -gt 2 ]; then
    head=$(git rev-parse HEAD^2)
else
    head=$(git rev-parse HEAD)
fi
rm -rf "$PLANS_DIR"

if [ -n "${LANDFALL_PLANS_FROM:-}" ]; then
    if [ ! -d "$LANDFALL_PLANS_FROM/$head" ]; then
        echo "error: no plans for merge-request commit $head in $LANDFALL_PLANS_FROM" >&2
        exit 1
    fi
    cp -R "$LANDFALL_PLANS_FROM/$head" "$PLANS_DIR"
else
    : "${LANDFALL_GITLAB_TOKEN:?set LANDFALL_GITLAB_TOKEN (read_api) to fetch the merge request's plans}"
    api="$CI_API_V4_URL/projects/$CI_PROJECT_ID"
    iid=$(curl --fail --silent --show-error --header "PRIVATE-TOKEN: $LANDFALL_GITLAB_TOKEN" \
        "$api/repository/commits/$CI_COMMIT_SHA/merge_requests" | jq -r '[.[] | select(.state == "merged")][0].iid // empty')
    [ -n "$iid" ] || { echo "error: $CI_COMMIT_SHA was not merged from a merge request: nothing planned to apply" >&2; exit 1; }
    curl --fail --silent --show-error --location --header "PRIVATE-TOKEN: $LANDFALL_GITLAB_TOKEN" \
        --output plans.zip "$api/jobs/artifacts/refs%2Fmerge-requests%2F$iid%2Fhead/download?job=plan"
    unzip -q -o plans.zip && rm plans.zip
fi
planned=$(cat "$PLANS_DIR/commit" 2>/dev/null || true)
if [ "$planned" != "$head" ]; then
    echo "error: the plans found were made for commit ${planned:-unknown}, not for the merged commit $head: run the merge request's pipeline again" >&2
    exit 1
fi
echo "plans of merge-request commit $head: $(tr '\n' ' ' <"$PLANS_DIR/environments")"
