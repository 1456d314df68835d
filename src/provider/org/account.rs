//! Member accounts. Id: the 12-digit account id.
//!
//! **read** lists accounts by parent, which yields every account together with its parent (so an
//! account moved outside landfall shows as `parent_id` drift), whatever the number of accounts. During
//! a refresh it lists only the parents state (and configuration, for accounts missing from state,
//! plus the root where creations start) places accounts under: `ListRoots` and one
//! `ListAccountsForParent` per such parent. An account in `ids` absent from its parent was moved or
//! left the organization: `ListParents` and `DescribeAccount` find out which. Outside a refresh
//! (`import`) the whole tree is walked: one `ListOrganizationalUnitsForParent` and one
//! `ListAccountsForParent` per parent. Tags are the exception: `ListTagsForResource` takes one resource, so
//! tags are fetched per account, and only for
//! - accounts in `ids` outside a refresh (`import`); during a refresh their tags are not read but
//!   compared against state (the trade-off is in [`super`]), and
//! - adoption candidates: accounts not in `ids`, other than the management account, that joined by
//!   creation (`JoinedMethod` CREATED) within the last [`ADOPTION_WINDOW`]. landfall records an account creation's request id before waiting
//!   for it, so an account it created can only go missing from state through a lost or rolled-back
//!   state; that is found by its `landfall:address` tag if it is recent. Older or invited accounts
//!   are adopted with `landfall import ADDRESS ACCOUNT_ID`. This keeps a steady-state refresh at
//!   O(OUs) calls, whatever the number of accounts.
//!
//! `role_name` and `close_on_destroy` are not readable from AWS (they are compared against state).
//!
//! **create** is asynchronous and crash-safe: `CreateAccount` (email, name, role name, tags), then the
//! request id is recorded through [`Cx::record_pending`] *before* `DescribeCreateAccountStatus` is polled
//! (capped exponential backoff, up to `account_creation_timeout` from landfall.toml, one hour by default). When [`Cx::pending`] holds a request id from
//! an interrupted run, its polling resumes and no second account is requested. Once the account exists
//! it is moved from the root to `parent_id`. At most [`MAX_CONCURRENT_CREATIONS`] creations run at once
//! (AWS's own limit on accounts being created concurrently). AWS rejects a second account with an email
//! already in use; landfall checks the organization first (one paginated `ListAccounts`), so the error
//! names the existing account to import.
//!
//! **update** moves the account when `parent_id` changes (never a replacement) and syncs tags from
//! what AWS holds to the configuration. AWS
//! Organizations cannot change an account's name or email: those are errors with guidance.
//!
//! **delete** closes the account (`CloseAccount`); the engine decides whether to call it
//! (`close_on_destroy`). A closed account stays in the organization, SUSPENDED, for 90 days.

use super::{
    NOT_IN_USE, Root, accounts_to_read, adopting, cached_root, has_address, live_untagged,
    live_with_tags, moved_account, parent_of, refreshing, required, run_root, sdk_tags, str_attr,
    sync_tags, tags_of,
};
use crate::aws::{AwsError, Created, call, call_create};
use crate::provider::{Attrs, CLOCK_SKEW_SECS, Cx, Live, paginate, unix_now};
use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{
    Account, AccountJoinedMethod, AccountState, AccountStatus, CreateAccountState,
};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// AWS allows only a few account creations in progress at once; landfall stays under that.
pub const MAX_CONCURRENT_CREATIONS: usize = 5;
static CREATIONS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_CREATIONS);

const POLL_FIRST: Duration = Duration::from_secs(2);
/// The longest wait between two polls of a creation, so the longest a finished creation goes unseen:
/// every account's baseline (and, at [`MAX_CONCURRENT_CREATIONS`], the next creations) waits that. At
/// 30 s a creation held 10 s was seen 4.4 s late (polls 2, 4 and 8 s apart); at 5 s five creations in
/// progress cost one poll a second, well within Organizations' request rate.
const POLL_MAX: Duration = Duration::from_secs(5);

/// Accounts created this recently are checked for a `landfall:address` tag even when not in `ids`.
pub const ADOPTION_WINDOW: Duration = Duration::from_secs(90 * 24 * 3600);

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let client = cx.organizations();
    let root = cached_root(cx).await?;
    let Some(root) = root.as_ref() else {
        return Ok(Vec::new());
    };
    let (accounts, narrowed) = accounts_to_read(cx, root).await?;
    let now = unix_now();
    let recent = |account: &Account| {
        !is_management(account)
            && account.joined_method() == Some(&AccountJoinedMethod::Created)
            && account
                .joined_timestamp()
                .is_some_and(|t| now - t.secs() < ADOPTION_WINDOW.as_secs() as i64)
    };
    let mut found = Vec::new();
    for (account, parent) in accounts.iter() {
        let Some(id) = account.id() else { continue };
        let wanted = ids.iter().any(|i| i == id);
        if wanted && refreshing(cx) {
            let (id, attrs) = attrs_of(account, parent);
            found.push(live_untagged(id, attrs));
            continue;
        }
        let candidate = recent(account) && adopting(cx, "account");
        if !wanted && !candidate {
            continue;
        }
        let tags = tags_of(&client, id).await?;
        if wanted || has_address(&tags) {
            found.push(live(account, parent, tags));
        }
    }
    if narrowed {
        // Only the parents state names were listed: an account not under its own was moved (or
        // left the organization) outside landfall.
        let listed: std::collections::HashSet<&str> =
            accounts.iter().filter_map(|(a, _)| a.id()).collect();
        for id in ids.iter().filter(|id| !listed.contains(id.as_str())) {
            if let Some((account, parent)) = moved_account(&client, id).await? {
                let (id, attrs) = attrs_of(&account, &parent);
                found.push(live_untagged(id, attrs));
            }
        }
    }
    Ok(found)
}

pub async fn create(cx: &Cx<'_>, address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    const OP: &str = "CreateAccount";
    let client = cx.organizations();
    let email = required(desired, "email", OP)?;
    let name = required(desired, "name", OP)?;
    let parent_id = required(desired, "parent_id", OP)?;

    let permit = CREATIONS
        .acquire()
        .await
        .map_err(|e| AwsError::other(OP, e.to_string()))?;
    let request_id = match cx.pending {
        Some(request_id) => request_id.to_string(),
        None => {
            if let Some(existing) = known_account_with_email(cx, &client, email).await? {
                return Err(email_taken(address, email, Some(&existing)));
            }
            let tags = sdk_tags(cx.creation_tags(address, desired), OP)?;
            let role_name = str_attr(desired, "role_name");
            let asked = unix_now();
            let outcome = call_create(
                OP,
                || {
                    client
                        .create_account()
                        .email(email)
                        .account_name(name)
                        .set_role_name(role_name.map(str::to_string))
                        .set_tags(Some(tags.clone()))
                        .send()
                },
                || request_since(&client, name, asked),
            )
            .await?;
            let request_id = match outcome {
                Created::Sent(out) => out
                    .create_account_status()
                    .and_then(|s| s.id())
                    .map(str::to_string),
                Created::Found(request_id) => Some(request_id),
            }
            .ok_or_else(|| AwsError::other(OP, "AWS returned no request id"))?;
            cx.record_pending.record(&request_id).await?;
            request_id
        }
    };
    let timeout = cx.aws.options().account_creation_timeout;
    let account_id = match wait_for_creation(&client, &request_id, address, email, timeout).await? {
        Ok(id) => id,
        Err(failure) => {
            // AWS finished the request: resuming it would fail the same way, so forget it and let
            // the next run make a new request once the cause is fixed.
            cx.record_pending.clear().await?;
            return Err(failure);
        }
    };
    drop(permit);

    if cx.pending.is_some() {
        // Resumed: an earlier run sent the request, with the tags it had then, and the account
        // may have been moved since.
        let from = parent_of(&client, &account_id).await?;
        if from != parent_id {
            move_account(&client, &account_id, &from, parent_id).await?;
        }
        return read_one(&client, &account_id).await;
    }
    // AWS creates an account in the root, with the name, email and tags this run just sent: no
    // `ListParents`, `DescribeAccount` nor `ListTagsForResource` to report it.
    let root = run_root(cx, OP).await?;
    if root.id != parent_id {
        move_account(&client, &account_id, &root.id, parent_id).await?;
    }
    let account = new_account(&root, &account_id, name, email)?;
    if let Some(emails) = cx.aws.run_memo::<Emails>().0.get() {
        let mut emails = emails.lock().unwrap();
        emails.insert(email.to_lowercase(), account.clone());
    }
    Ok(live(
        &account,
        parent_id,
        cx.creation_tags(address, desired),
    ))
}

/// The account AWS reports once a creation succeeded: active, its ARN under the organization's
/// (`arn:PARTITION:organizations::MANAGEMENT:account/o-.../ACCOUNT_ID`).
fn new_account(root: &Root, id: &str, name: &str, email: &str) -> Result<Account, AwsError> {
    let (_, org_id, management) = root
        .organization()
        .ok_or_else(|| AwsError::other("ListRoots", format!("unexpected root ARN {}", root.arn)))?;
    let partition = root.arn.split(':').nth(1).unwrap_or("aws");
    Ok(Account::builder()
        .id(id)
        .arn(format!(
            "arn:{partition}:organizations::{management}:account/{org_id}/{id}"
        ))
        .name(name)
        .email(email)
        .state(AccountState::Active)
        .status(AccountStatus::Active)
        .joined_method(AccountJoinedMethod::Created)
        .build())
}

pub async fn update(
    cx: &Cx<'_>,
    id: &str,
    current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    const OP: &str = "UpdateAccount";
    let client = cx.organizations();
    for (attr, how) in [
        (
            "name",
            "sign in to the account and change it under Account settings (or use the Account \
             Management API's PutAccountName)",
        ),
        (
            "email",
            "sign in as the account's root user and change it under Account settings",
        ),
    ] {
        let (was, wants) = (str_attr(current, attr), str_attr(desired, attr));
        if was != wants {
            return Err(AwsError::other(
                OP,
                format!(
                    "account {id}: AWS Organizations cannot change an account's {attr} ({} -> {}); \
                     {how}, then plan again (refresh reads the new {attr})",
                    was.unwrap_or("?"),
                    wants.unwrap_or("?")
                ),
            ));
        }
    }
    let parent_id = required(desired, "parent_id", OP)?;
    let from = parent_of(&client, id).await?;
    if from != parent_id {
        move_account(&client, id, &from, parent_id).await?;
    }
    sync_tags(&client, id, desired).await?;
    read_one(&client, id).await
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let client = cx.organizations();
    match call("CloseAccount", || {
        client.close_account().account_id(id).send()
    })
    .await
    {
        Err(e)
            if e.is("AccountAlreadyClosedException")
                || e.is("AccountNotFoundException")
                || e.is(NOT_IN_USE) =>
        {
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

/// Polls a creation request until AWS settles it: `Ok(Ok(account id))` when it succeeded,
/// `Ok(Err(why))` when it failed (a clear error), `Err` when landfall could not find out (the request
/// may still succeed).
async fn wait_for_creation(
    client: &Client,
    request_id: &str,
    address: &str,
    email: &str,
    timeout: Duration,
) -> Result<Result<String, AwsError>, AwsError> {
    const OP: &str = "DescribeCreateAccountStatus";
    let deadline = Instant::now() + timeout;
    let mut delay = POLL_FIRST;
    loop {
        let out = call(OP, || {
            client
                .describe_create_account_status()
                .create_account_request_id(request_id)
                .send()
        })
        .await
        .map_err(|e| {
            if e.is("CreateAccountStatusNotFoundException") {
                AwsError {
                    message: format!(
                        "account creation request {request_id} is unknown to AWS (requests are kept \
                         for 90 days); if the account exists, run `landfall import {address} \
                         ACCOUNT_ID`"
                    ),
                    ..e
                }
            } else {
                e
            }
        })?;
        let status = out
            .create_account_status()
            .ok_or_else(|| AwsError::other(OP, "AWS returned no status"))?;
        match status.state() {
            Some(CreateAccountState::Succeeded) => {
                return status
                    .account_id()
                    .map(|id| Ok(id.to_string()))
                    .ok_or_else(|| {
                        AwsError::other(
                            OP,
                            format!("request {request_id} succeeded without an account id"),
                        )
                    });
            }
            Some(CreateAccountState::Failed) => {
                let reason = status
                    .failure_reason()
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_else(|| "UNKNOWN".into());
                return Ok(Err(match reason.as_str() {
                    "EMAIL_ALREADY_EXISTS" => email_taken(
                        address,
                        email,
                        account_with_email(client, email).await?.as_ref(),
                    ),
                    "ACCOUNT_LIMIT_EXCEEDED" => failed(
                        &reason,
                        "the organization has reached its account quota; ask AWS Support for a \
                         higher limit (Service Quotas: Organizations) or close unused accounts",
                    ),
                    "CONCURRENT_ACCOUNT_MODIFICATION" => failed(
                        &reason,
                        "another change to the organization's accounts was in progress; run apply \
                         again",
                    ),
                    other => failed(other, &format!("account creation failed: {other}")),
                }));
            }
            _ => {}
        }
        if Instant::now() >= deadline {
            return Err(AwsError::other(
                OP,
                format!(
                    "account creation request {request_id} still in progress after {}; it stays \
                     recorded and the next apply resumes waiting (raise \
                     `account_creation_timeout` under [defaults] in landfall.toml to wait longer)",
                    humantime::format_duration(timeout)
                ),
            ));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(POLL_MAX);
    }
}

/// The creation request for an account named `name` made since `asked` (Unix seconds, less
/// [`CLOCK_SKEW_SECS`]), in progress or done: the request of a `CreateAccount` whose answer was lost.
/// Account names are not unique, but two requests for the same name within minutes are.
async fn request_since(
    client: &Client,
    name: &str,
    asked: i64,
) -> Result<Option<String>, AwsError> {
    let statuses = paginate(|token| async move {
        let out = call("ListCreateAccountStatus", || {
            client
                .list_create_account_status()
                .states(CreateAccountState::InProgress)
                .states(CreateAccountState::Succeeded)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        let page = out.create_account_statuses().to_vec();
        Ok((page, out.next_token().map(str::to_string)))
    })
    .await?;
    Ok(statuses
        .iter()
        .find(|s| {
            s.account_name() == Some(name)
                && s.requested_timestamp()
                    .is_some_and(|t| t.secs() >= asked - CLOCK_SKEW_SECS)
        })
        .and_then(|s| s.id())
        .map(str::to_string))
}

/// Whether this is the organization's management account: an account ARN is
/// `arn:aws:organizations::MANAGEMENT_ACCOUNT_ID:account/o-.../ACCOUNT_ID`.
fn is_management(account: &Account) -> bool {
    match (account.id(), account.arn()) {
        (Some(id), Some(arn)) => arn.split(':').nth(4) == Some(id),
        _ => false,
    }
}

/// A failed creation: the code is AWS's failure reason, e.g. `EMAIL_ALREADY_EXISTS`.
fn failed(reason: &str, message: &str) -> AwsError {
    AwsError {
        code: Some(reason.to_string()),
        ..AwsError::other("CreateAccount", message)
    }
}

fn email_taken(address: &str, email: &str, existing: Option<&Account>) -> AwsError {
    let id = existing.and_then(|a| a.id()).unwrap_or("ACCOUNT_ID");
    let whose = match existing {
        Some(a) => format!("account {id} ({})", a.name().unwrap_or_default()),
        None => "another AWS account".to_string(),
    };
    failed(
        "EMAIL_ALREADY_EXISTS",
        &format!(
            "the email {email} already belongs to {whose}; to manage that account, run \
             `landfall import {address} {id}`, or choose another email"
        ),
    )
}

/// The organization's accounts by email (lower case), listed once per run ([`Aws::run_memo`]) and
/// kept current with the accounts the run creates: the duplicate-email check of N creations costs
/// one paginated `ListAccounts`, not N. An account someone else creates meanwhile with the same
/// email makes AWS fail the creation with `EMAIL_ALREADY_EXISTS`, which is reported as such.
#[derive(Default)]
struct Emails(tokio::sync::OnceCell<std::sync::Mutex<std::collections::HashMap<String, Account>>>);

/// [`account_with_email`] from the run's [`Emails`].
async fn known_account_with_email(
    cx: &Cx<'_>,
    client: &Client,
    email: &str,
) -> Result<Option<Account>, AwsError> {
    let memo = cx.aws.run_memo::<Emails>();
    let emails = memo
        .0
        .get_or_try_init(|| async {
            let all = list_accounts(client).await?;
            let by_email = all
                .into_iter()
                .filter_map(|a| Some((a.email()?.to_lowercase(), a)))
                .collect();
            Ok::<_, AwsError>(std::sync::Mutex::new(by_email))
        })
        .await?;
    Ok(emails.lock().unwrap().get(&email.to_lowercase()).cloned())
}

/// Every account of the organization: a paginated `ListAccounts`.
async fn list_accounts(client: &Client) -> Result<Vec<Account>, AwsError> {
    let mut accounts = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = call("ListAccounts", || {
            client.list_accounts().set_next_token(token.clone()).send()
        })
        .await?;
        accounts.extend(out.accounts().iter().cloned());
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(accounts);
        }
    }
}

/// The organization's account with this email (case-insensitive), if any: one paginated `ListAccounts`.
async fn account_with_email(client: &Client, email: &str) -> Result<Option<Account>, AwsError> {
    Ok(list_accounts(client)
        .await?
        .into_iter()
        .find(|a| a.email().is_some_and(|e| e.eq_ignore_ascii_case(email))))
}

async fn move_account(client: &Client, id: &str, from: &str, to: &str) -> Result<(), AwsError> {
    call("MoveAccount", || {
        client
            .move_account()
            .account_id(id)
            .source_parent_id(from)
            .destination_parent_id(to)
            .send()
    })
    .await
    .map(|_| ())
}

/// One account, read directly: `DescribeAccount`, `ListParents`, `ListTagsForResource`.
async fn read_one(client: &Client, id: &str) -> Result<Live, AwsError> {
    let account = describe(client, id).await?;
    let parent_id = parent_of(client, id).await?;
    let tags = tags_of(client, id).await?;
    Ok(live(&account, &parent_id, tags))
}

/// `DescribeAccount`.
async fn describe(client: &Client, id: &str) -> Result<Account, AwsError> {
    let out = call("DescribeAccount", || {
        client.describe_account().account_id(id).send()
    })
    .await?;
    out.account()
        .cloned()
        .ok_or_else(|| AwsError::other("DescribeAccount", format!("account {id} not returned")))
}

fn live(account: &Account, parent_id: &str, tags: Vec<(String, String)>) -> Live {
    let (id, attrs) = attrs_of(account, parent_id);
    live_with_tags(id, attrs, tags)
}

/// An account's id and its readable attributes but `tags`.
fn attrs_of(account: &Account, parent_id: &str) -> (String, Attrs) {
    let id = account.id().unwrap_or_default().to_string();
    // `State` replaces `Status`, which AWS retires in September 2026.
    let status = account
        .state()
        .map(|s| s.as_str().to_string())
        .or_else(|| account.status().map(|s| s.as_str().to_string()))
        .unwrap_or_default();
    let mut attrs = Attrs::new();
    attrs.insert("name".into(), account.name().unwrap_or_default().into());
    attrs.insert("email".into(), account.email().unwrap_or_default().into());
    attrs.insert("parent_id".into(), parent_id.into());
    attrs.insert("id".into(), id.clone().into());
    attrs.insert("arn".into(), account.arn().unwrap_or_default().into());
    attrs.insert("status".into(), status.into());
    (id, attrs)
}
