//! Requests per operation, counted by `--stats`, for a small organization: an apply reads nothing
//! twice that it already knows (a created account's parent and tags), and a no-op plan costs a
//! listing per parent, not per resource. Counts are deterministic (no timing): every attempt is
//! counted, and the emulator answers every request the first time.

mod common;

use common::cli::{expect_code, landfall, requests, text};
use common::moto::Moto;

fn project() -> tempfile::TempDir {
    common::fixture_copy("tests/fixtures/org")
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_and_no_op_plan_of_an_organization_send_each_read_once() {
    let moto = Moto::start();
    let dir = project();
    let d = dir.path();
    let out = landfall(
        d,
        &moto,
        &["apply", "--env", "test", "--auto-approve", "--stats"],
    );
    expect_code(&out, 0);
    // The organization, one OU and two accounts: the organization is described once after its
    // creation (not again to update it), and each new account costs one `ListParents` (where AWS put
    // it) and one `DescribeAccount`; its tags are the ones it was created with (no
    // `ListTagsForResource`). The organization's accounts are listed once for the duplicate-email
    // check of both.
    assert_counts(
        &out,
        &[
            ("CreateOrganization", 1),
            ("DescribeOrganization", 2),
            ("ListRoots", 2),
            ("ListAWSServiceAccessForOrganization", 1),
            ("CreateOrganizationalUnit", 1),
            ("ListOrganizationalUnitsForParent", 1),
            ("CreateAccount", 2),
            ("DescribeCreateAccountStatus", 2),
            ("ListParents", 2),
            ("MoveAccount", 2),
            ("DescribeAccount", 2),
            ("ListTagsForResource", 0),
            ("ListAccounts", 1),
            ("total", 20),
        ],
    );
    // Nothing to change: the root, then one listing per parent that holds managed OUs or accounts.
    let plan = landfall(
        d,
        &moto,
        &["plan", "--env", "test", "--detailed-exitcode", "--stats"],
    );
    expect_code(&plan, 0);
    assert_counts(
        &plan,
        &[
            ("ListRoots", 1),
            ("ListAWSServiceAccessForOrganization", 1),
            ("ListOrganizationalUnitsForParent", 1),
            ("ListAccountsForParent", 1),
            ("DescribeOrganization", 0),
            ("total", 4),
        ],
    );
}

fn assert_counts(out: &std::process::Output, expected: &[(&str, u64)]) {
    let found: Vec<(&str, u64)> = expected
        .iter()
        .map(|(op, _)| (*op, requests(out, op)))
        .collect();
    assert_eq!(found, expected, "{}", text(out));
}
