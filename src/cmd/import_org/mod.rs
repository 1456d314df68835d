//! `landfall import-org`: adopts an existing AWS organization into a new stack.
//!
//! ```text
//! AWS (read-only) --discover--> organization, OU tree, accounts, policies, attachments
//!     --render--> stacks/<stack>.toml (+ policies/*.json, and landfall.toml / env.toml when missing)
//!     --resolve with the live values--> state, exactly as apply would have written it
//! ```
//!
//! Nothing in AWS is changed: discovery uses List/Describe calls only, and the attributes recorded in
//! state come from the providers' own `read`, so the next `landfall plan` compares like with like and
//! shows no changes. Files are written only once everything was read; when a later step fails
//! (resolution, or state that appeared meanwhile), every file written is removed or restored.
//!
//! Left out on purpose: the management account (it is the organization itself: landfall could neither
//! create nor close it; its id is `organization.<name>.management_account_id`) and the AWS-managed
//! policies such as `FullAWSAccess` with their attachments. Delegated administrators are not imported.

mod discover;
mod render;
mod write;

use super::{Exit, Result};
use crate::aws::{self, Aws};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to import, and where.
#[derive(Debug, Clone)]
pub struct Request {
    /// The folder landfall runs in: the project root is found from here, or created here.
    pub dir: PathBuf,
    pub env: String,
    pub stack: String,
}

/// What was imported.
#[derive(Debug, Default)]
pub struct Imported {
    pub root: PathBuf,
    pub organization_id: String,
    /// Resources recorded, by kind, in the order of the stack file.
    pub counts: Vec<(&'static str, usize)>,
    /// Files created or changed, relative to the root.
    pub written: Vec<String>,
    /// Where the state was written.
    pub state: String,
    /// What was left out, for the user.
    pub left_out: Vec<String>,
    /// Things the user must know: the next plan would not be empty, or an edit to make by hand.
    pub warnings: Vec<String>,
}

/// What stops import-org, besides AWS, state and configuration errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{who} is in no AWS organization: there is nothing to import (run import-org with the \
         management account's credentials)"
    )]
    NoOrganization { who: String },
    #[error("DescribeOrganization returned no organization id")]
    NoOrganizationId,
    #[error("organization {id} could not be read")]
    OrganizationNotRead { id: String },
    #[error(
        "`{name}` is not a valid {what} name: letters, digits, `_` and `-`, starting with a letter or `_`"
    )]
    InvalidName { what: &'static str, name: String },
    #[error(
        "{} already exists; import-org writes a new stack and never overwrites one (choose another \
         --stack, or move the file away)",
        .path.display()
    )]
    StackExists { path: PathBuf },
    #[error(
        "state for stack `{stack}` of environment `{env}` already exists ({place}); import-org only \
         writes new state. Choose another --stack, or remove that state first"
    )]
    StateExists {
        env: String,
        stack: String,
        place: String,
    },
    #[error("{file} is not valid TOML: {reason}")]
    EnvFileInvalid { file: String, reason: String },
    /// The environment file's `stacks` could not be edited safely: the user adds the line.
    #[error(
        "environment file {file} does not list stack `{stack}`: add it as\n    {line}\nthen run import-org again"
    )]
    EnvFileByHand {
        file: String,
        stack: String,
        line: String,
    },
    #[error("cannot {action} {}: {error}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{address} is in the configuration but was not imported")]
    NotImported { address: String },
    #[error("{address}: `{attr}` did not resolve; this is a bug in import-org")]
    Unresolved { address: String, attr: String },
}

/// The AWS settings to use before the project is loaded: home region and access role from an existing
/// `landfall.toml` (found from `dir`), else the defaults.
pub fn aws_options(dir: &Path) -> aws::Options {
    let table = crate::load::find_root(dir)
        .ok()
        .and_then(|root| std::fs::read_to_string(root.join("landfall.toml")).ok())
        .and_then(|text| text.parse::<toml::Table>().ok())
        .unwrap_or_default();
    let get = |section: &str, key: &str| {
        table
            .get(section)
            .and_then(|s| s.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let home_region = get("project", "home_region").unwrap_or_else(|| "us-east-1".into());
    let mut options = aws::Options::new(&home_region);
    if let Some(role) = get("defaults", "access_role") {
        options.access_role = role;
    }
    options
}

/// `landfall import-org --env ENV --stack STACK`, run in `dir`: imports, then says what was written.
/// Runs without a project too (it writes one), so it takes the working folder rather than a
/// [`super::Ctx`].
pub fn import_org(dir: &Path, env: &str, stack: &str) -> Result {
    super::runtime().block_on(async {
        let aws = Arc::new(Aws::load(aws_options(dir)).await);
        let request = Request {
            dir: dir.to_path_buf(),
            env: env.to_string(),
            stack: stack.to_string(),
        };
        let imported = import(&request, &aws).await?;
        let counts: Vec<String> = imported
            .counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        println!(
            "Imported organization {} into stack `{stack}` of environment `{env}`: {}.",
            imported.organization_id,
            counts.join(", ")
        );
        println!("Wrote (under {}):", imported.root.display());
        for file in &imported.written {
            println!("  {file}");
        }
        println!("State: {}", imported.state);
        for what in &imported.left_out {
            println!("Left out: {what}.");
        }
        for warning in &imported.warnings {
            eprintln!("warning: {warning}");
        }
        println!("AWS was only read. Check with: landfall plan --env {env}");
        Ok(Exit::Success)
    })
}

/// Imports the organization of the caller's (management) account into a new stack: checks that the
/// stack is new, discovers, renders, writes (files undone when a later step fails).
pub async fn import(req: &Request, aws: &Arc<Aws>) -> Result<Imported> {
    let target = write::Target::prepare(req, aws).await?;
    let home_region = aws.options().home_region.clone();
    let org = discover::discover(aws, &home_region).await?;
    let rendered = render::render(&org, &req.stack, &req.env, &target.root);
    let written = write::write(&target, &rendered, aws).await?;
    Ok(Imported {
        root: target.root,
        organization_id: org.organization.id.clone(),
        counts: rendered.counts,
        written: written.files,
        state: written.state,
        left_out: left_out(&org),
        warnings: written.warnings,
    })
}

/// What the stack does not hold, for the user.
fn left_out(org: &discover::Org) -> Vec<String> {
    let mut left_out = vec![format!(
        "the management account {}{} (refer to it as organization.{}.management_account_id)",
        org.management_account_id,
        if org.management_account_name.is_empty() {
            String::new()
        } else {
            format!(" ({})", org.management_account_name)
        },
        render::ORG
    )];
    if org.aws_managed_attachments > 0 {
        left_out.push(format!(
            "the AWS-managed policies (FullAWSAccess) and their {} attachments",
            org.aws_managed_attachments
        ));
    }
    left_out
}
