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

use crate::aws::{self, Aws, AwsError, call};
mod discover;
mod render;
mod write;

use discover::*;
use render::*;
use write::*;

use crate::engine::{Error, Workspace, read_states};
use crate::plan::{self, Filter, Observed, desired_json};
use crate::provider::{self, Cx, Live, Location};
use crate::resolve::Known;
use crate::schema::{self, Scope};
use crate::state::{LockInfo, ResourceState, State};
use aws_sdk_organizations::types::PolicyType;
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, HashSet};
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

fn other(message: impl Into<String>) -> Error {
    Error::Other(message.into())
}

/// Imports the organization of the caller's (management) account into a new stack.
pub async fn import_org(req: &Request, aws: &Arc<Aws>) -> Result<Imported, Error> {
    for (what, name) in [("environment", &req.env), ("stack", &req.stack)] {
        if !crate::load::is_plain_name(name) {
            return Err(other(format!(
                "`{name}` is not a valid {what} name: letters, digits, `_` and `-`, starting with a \
                 letter or `_`"
            )));
        }
    }
    let (root, has_project) = match crate::load::find_root(&req.dir) {
        Ok(root) => (root, true),
        Err(_) => (req.dir.clone(), false),
    };
    let (env, stack) = (req.env.as_str(), req.stack.as_str());
    let stack_file = root.join("stacks").join(format!("{stack}.toml"));
    for existing in [&stack_file, &root.join("stacks").join(stack)] {
        if existing.exists() {
            return Err(other(format!(
                "{} already exists; import-org writes a new stack and never overwrites one (choose \
                 another --stack, or move the file away)",
                existing.display()
            )));
        }
    }
    let env_file = root.join("environments").join(env).join("env.toml");
    let env_text = if env_file.is_file() {
        Some(
            std::fs::read_to_string(&env_file)
                .map_err(|e| other(format!("cannot read {}: {e}", env_file.display())))?,
        )
    } else {
        None
    };

    // What the environment deploys now, and whether the stack has state already.
    let mut effective = None;
    if has_project
        && env_text.is_some()
        && let Ok(ws) = Workspace::open(&root, env)
    {
        let backend = ws.backend(Some(aws.clone()));
        if backend.read(env, stack).await?.is_some() {
            return Err(state_exists(&backend.describe(env, stack), env, stack));
        }
        effective = Some(ws.stacks());
    }
    let env_edit = match &env_text {
        None => EnvEdit::Create(format!(
            "# Environment `{env}`, created by `landfall import-org`.\nstacks = [{}]\n",
            quote(stack)
        )),
        Some(text) => match add_stack(text, effective.as_deref(), stack, &rel(&root, &env_file))
            .map_err(other)?
        {
            Some(new) => EnvEdit::Change(text.clone(), new),
            None => EnvEdit::None,
        },
    };

    let home_region = aws.options().home_region.clone();
    let org = discover(aws, &home_region).await?;
    let rendered = render(&org, stack, env, &root);

    let mut undo = Undo::default();
    let result = write_all(
        req,
        aws,
        &root,
        has_project,
        &env_file,
        env_edit,
        &stack_file,
        &rendered,
        &mut undo,
    )
    .await;
    match result {
        Ok((state, warnings)) => {
            let mut written: Vec<String> = undo.created.iter().map(|p| rel(&root, p)).collect();
            written.extend(undo.changed.iter().map(|(p, _)| rel(&root, p)));
            let mut left_out = vec![format!(
                "the management account {}{} (refer to it as organization.{ORG}.management_account_id)",
                org.management_account_id,
                if org.management_account_name.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", org.management_account_name)
                }
            )];
            if org.aws_managed_attachments > 0 {
                left_out.push(format!(
                    "the AWS-managed policies (FullAWSAccess) and their {} attachments",
                    org.aws_managed_attachments
                ));
            }
            Ok(Imported {
                root,
                organization_id: org.organization.id.clone(),
                counts: rendered.counts,
                written,
                state,
                left_out,
                warnings,
            })
        }
        Err(e) => {
            undo.undo();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_and_distinct() {
        assert_eq!(sanitize("Log Archive", "account"), "log_archive");
        assert_eq!(sanitize("deny-root-user", "policy"), "deny_root_user");
        assert_eq!(sanitize("  --Prod!! ", "ou"), "prod");
        assert_eq!(sanitize("123 team", "account"), "account_123_team");
        assert_eq!(sanitize("Équipe", "ou"), "quipe");
        assert_eq!(sanitize("***", "ou"), "ou");
        let mut names = Names::default();
        assert_eq!(names.take("dev"), "dev");
        assert_eq!(names.take("dev"), "dev_2");
        assert_eq!(names.take("dev"), "dev_3");
        for s in ["log_archive", "account_123_team", "ou", "dev_2"] {
            assert!(crate::load::is_plain_name(s), "{s}");
        }
        assert!(
            !crate::load::is_plain_name("1x")
                && !crate::load::is_plain_name("")
                && !crate::load::is_plain_name("a.b")
        );
    }

    #[test]
    fn strings_are_quoted_for_toml_and_templates() {
        assert_eq!(quote(r#"a "b" \ ${x}"#), r#""a \"b\" \\ $${x}""#);
        assert_eq!(key("cost-center"), "cost-center");
        assert_eq!(key("aws:tag ${x}"), r#""aws:tag ${x}""#);
        let parsed: toml::Table = format!("v = {}", quote("line\nnext\t\u{1}"))
            .parse()
            .unwrap();
        assert_eq!(parsed["v"].as_str(), Some("line\nnext\t\u{1}"));
    }

    #[test]
    fn a_stack_is_added_to_the_environment() {
        let text = "include = [\"../common.toml\"]\nstacks = [\"a\"] # ours\n\n[vars]\nx = 1\n";
        let new = add_stack(text, None, "org", "env.toml").unwrap().unwrap();
        assert!(new.contains("stacks = [\"a\", \"org\"] # ours\n"), "{new}");
        assert_eq!(add_stack(&new, None, "org", "env.toml").unwrap(), None);

        let inherited = "include = [\"../common.toml\"]\n\n[vars]\nx = 1\n";
        let effective = vec!["base".to_string()];
        let new = add_stack(inherited, Some(&effective), "org", "env.toml")
            .unwrap()
            .unwrap();
        let parsed: toml::Table = new.parse().unwrap();
        assert_eq!(parsed["stacks"].as_array().unwrap().len(), 2, "{new}");
        assert!(parsed["vars"].get("x").is_some());

        let multiline = "stacks = [\n  \"a\",\n]\n";
        let err = add_stack(multiline, None, "org", "env.toml").unwrap_err();
        assert!(err.contains("stacks = [\"a\", \"org\"]"), "{err}");
    }
}
