//! `account_alternate_contact`: one of an account's alternate contacts (security, billing or
//! operations), whom AWS notifies besides the root user's email.
//!
//! The id is the contact type (`SECURITY`, `BILLING`, `OPERATIONS`): an account has at most one of
//! each, which the location's account names. The calls run inside the account (through the access
//! role for a member account), so no `AccountId` is sent and the organization's trusted access for
//! account management is not needed. The Account API has no listing: `read` is one
//! `GetAlternateContact` per contact asked for. `PutAlternateContact` sets the whole contact, so create
//! and update are the same call, and doing it again after a lost answer is harmless.

use super::setting;
use crate::aws::{AwsError, call};
use crate::provider::attrs::{ignore_not_found, required, str_or_empty};
use crate::provider::{Attrs, Cx, Live};
use aws_sdk_account::types::AlternateContactType;

/// The contact's fields besides its type, as the schema names them.
const FIELDS: [&str; 4] = ["name", "title", "email_address", "phone_number"];

pub async fn read(cx: &Cx<'_>, ids: &[String]) -> Result<Vec<Live>, AwsError> {
    let account = cx.account().await?;
    let mut found = Vec::new();
    for id in ids {
        let contact_type = AlternateContactType::from(id.as_str());
        let out = ignore_not_found(
            call("GetAlternateContact", || {
                account
                    .get_alternate_contact()
                    .alternate_contact_type(contact_type.clone())
                    .send()
            })
            .await,
        )?;
        let Some(contact) = out.as_ref().and_then(|o| o.alternate_contact()) else {
            continue;
        };
        let values = [
            contact.name(),
            contact.title(),
            contact.email_address(),
            contact.phone_number(),
        ];
        let mut attrs: Attrs = FIELDS
            .iter()
            .zip(values)
            .map(|(name, v)| (name.to_string(), v.unwrap_or_default().into()))
            .collect();
        attrs.insert("contact_type".into(), id.as_str().into());
        found.push(setting(id, attrs));
    }
    Ok(found)
}

pub async fn create(cx: &Cx<'_>, _address: &str, desired: &Attrs) -> Result<Live, AwsError> {
    put(cx, desired).await
}

pub async fn update(
    cx: &Cx<'_>,
    _id: &str,
    _current: &Attrs,
    desired: &Attrs,
) -> Result<Live, AwsError> {
    put(cx, desired).await
}

pub async fn delete(cx: &Cx<'_>, id: &str, _current: &Attrs) -> Result<(), AwsError> {
    let account = cx.account().await?;
    ignore_not_found(
        call("DeleteAlternateContact", || {
            account
                .delete_alternate_contact()
                .alternate_contact_type(AlternateContactType::from(id))
                .send()
        })
        .await,
    )
    .map(drop)
}

async fn put(cx: &Cx<'_>, desired: &Attrs) -> Result<Live, AwsError> {
    let account = cx.account().await?;
    let op = "PutAlternateContact";
    let contact_type = required(desired, "contact_type", op)?;
    let [name, title, email, phone] = FIELDS.map(|f| str_or_empty(desired, f));
    call(op, || {
        account
            .put_alternate_contact()
            .alternate_contact_type(AlternateContactType::from(contact_type))
            .name(name)
            .title(title)
            .email_address(email)
            .phone_number(phone)
            .send()
    })
    .await?;
    let mut attrs: Attrs = FIELDS
        .iter()
        .map(|f| (f.to_string(), str_or_empty(desired, f).into()))
        .collect();
    attrs.insert("contact_type".into(), contact_type.into());
    Ok(setting(contact_type, attrs))
}
