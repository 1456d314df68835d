//! Account guardrails: settings AWS keeps once per account (or per account and region) that a landing
//! zone sets everywhere. EBS encryption by default (per region), the S3 account-level public access
//! block, and the account's alternate contacts.
//!
//! None of them takes tags, and each exists at most once where it lives, so each is recognised by an
//! id that follows from the configuration ([`crate::provider::Identity::Id`]): a constant for the
//! one-per-location settings, the contact type for alternate contacts. Every create and update sets
//! the whole setting, so doing one again after a crash or a lost answer is harmless.

pub mod alternate_contact;
pub mod ebs_encryption;
pub mod s3_public_access_block;

use crate::provider::{Attrs, Live};

/// A setting's `Live`: its id, also reported as the `id` attribute.
fn setting(id: &str, mut attrs: Attrs) -> Live {
    attrs.insert("id".into(), id.into());
    Live {
        id: id.to_string(),
        attrs,
        address: None,
        lineage: None,
    }
}
