# Posting the Markdown plan parts as merge-request comments (sourced by plan.sh). Only with a token:
#   GitLab: LANDFALL_GITLAB_TOKEN (a project access token with `api` scope; the job token cannot write
#           notes), posted to $CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes
#   GitHub: GITHUB_TOKEN with `pull-requests: write`, posted with `gh pr comment $LANDFALL_PR --body-file`
# Without one the comment bodies stay artifacts (plans/ENV.comment/plan-N.md).

post_comments() {
    for part in "$PLANS_DIR"/*.comment/plan-*.md; do
        [ -f "$part" ] || continue
        if [ -n "${LANDFALL_GITLAB_TOKEN:-}" ] && [ -n "${CI_MERGE_REQUEST_IID:-}" ]; then
            curl --fail --silent --show-error --request POST \
                --header "PRIVATE-TOKEN: $LANDFALL_GITLAB_TOKEN" \
                --form "body=<$part" \
                "$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes" >/dev/null
            echo "posted $part"
        elif [ -n "${GITHUB_TOKEN:-}" ] && [ -n "${LANDFALL_PR:-}" ]; then
            gh pr comment "$LANDFALL_PR" --body-file "$part"
        else
            echo "comment body: $part (no token: not posted)"
        fi
    done
}
