//! Fixture helpers shared by the integration tests.

#![allow(dead_code)]

pub mod cli;
pub mod git;
pub mod moto;
pub mod project;
pub mod state;

use std::path::{Path, PathBuf};

/// The repository root: also the example landing zone.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the example landing zone (the repository's own configuration) into a temporary folder.
pub fn example_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    for part in [
        "landfall.toml",
        "environments",
        "stacks",
        "modules",
        "policies",
    ] {
        copy(&repo().join(part), &tmp.path().join(part));
    }
    tmp
}

/// Copies a fixture project (a folder under the repository, e.g. `tests/fixtures/engine`) into a
/// temporary folder.
pub fn fixture_copy(relative: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    copy(&repo().join(relative), tmp.path());
    tmp
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

/// Deletes a NAT gateway as someone outside landfall would; as AWS does (the emulator does not), its
/// elastic IP stays allocated but is no longer associated.
pub async fn delete_nat_outside(ec2: &aws_sdk_ec2::Client, nat: &str) {
    ec2.delete_nat_gateway()
        .nat_gateway_id(nat)
        .send()
        .await
        .unwrap();
    let addresses = ec2.describe_addresses().send().await.unwrap();
    for association in addresses
        .addresses()
        .iter()
        .filter_map(|a| a.association_id())
    {
        ec2.disassociate_address()
            .association_id(association)
            .send()
            .await
            .unwrap();
    }
}

/// What a RAM share is associated with, of one type (principals or resource ARNs), read directly.
pub async fn share_associations(
    ram: &aws_sdk_ram::Client,
    share: &str,
    kind: aws_sdk_ram::types::ResourceShareAssociationType,
) -> Vec<String> {
    let out = ram
        .get_resource_share_associations()
        .association_type(kind)
        .resource_share_arns(share)
        .send()
        .await
        .unwrap();
    out.resource_share_associations()
        .iter()
        .map(|a| a.associated_entity().unwrap().to_string())
        .collect()
}
