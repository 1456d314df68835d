//! `iam_password_policy`: the account's password policy for IAM users (one per account).
//!
//! The id is the constant [`ID`], `password-policy`: there is one policy per account, and its location
//! already names the account. `read` is one `GetAccountPasswordPolicy` call and reports the policy when
//! its id is asked for and the account has one. The policy takes no tags, so it is never adopted by tag;
//! creating it again after a crash is harmless, since create and update both set the whole policy
//! (`UpdateAccountPasswordPolicy` replaces every setting, leaving out none).
//!
//! `max_password_age` and `password_reuse_prevention` are 0 when off, which IAM expresses by leaving
//! them out.

use super::{bool_attr, ignore_not_found, int_attr, object};
use crate::aws::{AwsError, call};
use crate::provider::{Attrs, Cx, Live};
use serde_json::json;

/// The id of the account's one password policy.
pub const ID: &str = "password-policy";

/// Booleans, all defaulting to true in the schema.
const FLAGS: [&str; 5] = [
    "require_symbols",
    "require_numbers",
    "require_uppercase_characters",
    "require_lowercase_characters",
    "allow_users_to_change_password",
];

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    if !ids.iter().any(|id| id == ID) {
        return Ok(Vec::new());
    }
    let iam = cx.iam().await?;
    let out = match call("GetAccountPasswordPolicy", || {
        iam.get_account_password_policy().send()
    })
    .await
    {
        Ok(out) => out,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let Some(policy) = out.password_policy() else {
        return Ok(Vec::new());
    };
    let attrs = object(json!({
        // IAM's own minimum when unset.
        "minimum_password_length": policy.minimum_password_length().unwrap_or(6),
        "require_symbols": policy.require_symbols(),
        "require_numbers": policy.require_numbers(),
        "require_uppercase_characters": policy.require_uppercase_characters(),
        "require_lowercase_characters": policy.require_lowercase_characters(),
        "allow_users_to_change_password": policy.allow_users_to_change_password(),
        "max_password_age": policy.max_password_age().unwrap_or(0),
        "password_reuse_prevention": policy.password_reuse_prevention().unwrap_or(0),
        "id": ID,
    }));
    Ok(vec![Live {
        id: ID.to_string(),
        attrs,
        address: None,
        lineage: None,
    }])
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    apply(cx, desired).await
}

pub async fn update(
    cx: &Cx<'_>,
    _id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    apply(cx, desired).await
}

pub async fn delete(cx: &Cx<'_>, _id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let iam = cx.iam().await?;
    let deleted = call("DeleteAccountPasswordPolicy", || {
        iam.delete_account_password_policy().send()
    })
    .await;
    ignore_not_found(deleted.map(drop)).map(drop)
}

/// Sets the whole policy to `desired`.
async fn apply(cx: &Cx<'_>, desired: &Attrs) -> Result<Live, AwsError> {
    let iam = cx.iam().await?;
    let positive = |name| int_attr(desired, name).filter(|n| *n > 0);
    call("UpdateAccountPasswordPolicy", || {
        iam.update_account_password_policy()
            .set_minimum_password_length(int_attr(desired, "minimum_password_length"))
            .require_symbols(bool_attr(desired, "require_symbols", true))
            .require_numbers(bool_attr(desired, "require_numbers", true))
            .require_uppercase_characters(bool_attr(desired, "require_uppercase_characters", true))
            .require_lowercase_characters(bool_attr(desired, "require_lowercase_characters", true))
            .allow_users_to_change_password(bool_attr(
                desired,
                "allow_users_to_change_password",
                true,
            ))
            .set_max_password_age(positive("max_password_age"))
            .set_password_reuse_prevention(positive("password_reuse_prevention"))
            .send()
    })
    .await?;
    let mut attrs = desired.clone();
    for flag in FLAGS {
        attrs.insert(flag.into(), bool_attr(desired, flag, true).into());
    }
    for number in ["max_password_age", "password_reuse_prevention"] {
        attrs.insert(number.into(), positive(number).unwrap_or(0).into());
    }
    if let Some(length) = int_attr(desired, "minimum_password_length") {
        attrs.insert("minimum_password_length".into(), length.into());
    }
    attrs.insert("id".into(), ID.into());
    Ok(Live {
        id: ID.to_string(),
        attrs,
        address: None,
        lineage: None,
    })
}
