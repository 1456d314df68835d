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

/// The policy types listed for customer-managed policies.
const POLICY_TYPES: [&str; 4] = [
    "SERVICE_CONTROL_POLICY",
    "TAG_POLICY",
    "BACKUP_POLICY",
    "RESOURCE_CONTROL_POLICY",
];
const NOT_IN_USE: &str = "AWSOrganizationsNotInUseException";
/// The organization's resource name in the generated stack.
const ORG: &str = "main";

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

/// A landfall resource name from an AWS name: lower case, runs of anything but letters and digits as
/// one `_` (names with `-` cannot be referenced in expressions), `fallback` when nothing is left, and
/// `fallback_` before a leading digit.
pub fn sanitize(aws_name: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in aws_name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        fallback.to_string()
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{fallback}_{out}")
    } else {
        out
    }
}

/// Hands out distinct names: `x`, then `x_2`, `x_3`...
#[derive(Default)]
struct Names(HashSet<String>);

impl Names {
    fn take(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 1;
        while !self.0.insert(name.clone()) {
            n += 1;
            name = format!("{base}_{n}");
        }
        name
    }
}

/// The organization as read.
struct Org {
    organization: Live,
    root_id: String,
    management_account_id: String,
    management_account_name: String,
    /// Parents before children.
    ous: Vec<Live>,
    accounts: Vec<Live>,
    policies: Vec<Live>,
    /// (policy id, target id).
    attachments: Vec<(String, String)>,
    /// AWS-managed policies attached somewhere (left out).
    aws_managed_attachments: usize,
}

fn other(message: impl Into<String>) -> Error {
    Error::Other(message.into())
}

/// Reads the organization: read-only calls only, through the providers' `read` where they fit.
async fn discover(aws: &Aws, home_region: &str) -> Result<Org, Error> {
    let client = aws.organizations();
    let described = match call("DescribeOrganization", || {
        client.describe_organization().send()
    })
    .await
    {
        Ok(out) => out,
        Err(e) if e.is(NOT_IN_USE) => {
            let who = aws
                .caller()
                .await
                .map(|c| format!("account {}", c.account))
                .unwrap_or_else(|_| "the caller's account".into());
            return Err(other(format!(
                "{who} is in no AWS organization: there is nothing to import (run import-org with \
                 the management account's credentials)"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let org_id = described
        .organization()
        .and_then(|o| o.id())
        .ok_or_else(|| other("DescribeOrganization returned no organization id"))?
        .to_string();
    let management_account_id = described
        .organization()
        .and_then(|o| o.master_account_id())
        .unwrap_or_default()
        .to_string();

    let loc = Location {
        account: None,
        region: home_region.to_string(),
    };
    // No read cache: with one, the providers behave as in a refresh and skip the tags of the ids
    // asked for (refresh compares those against state); here they must be read.
    let cx = Cx::standalone(aws, &loc, "");
    let read = |kind: &'static str, ids: Vec<String>| {
        let cx = &cx;
        async move {
            let found = provider::read(kind, cx, &ids).await?;
            let mut by_id: HashMap<String, Live> =
                found.into_iter().map(|l| (l.id.clone(), l)).collect();
            // In the order asked for; only what was asked for (reads also return tagged resources).
            Ok::<Vec<Live>, AwsError>(ids.iter().filter_map(|id| by_id.remove(id)).collect())
        }
    };

    let organization = read("organization", vec![org_id.clone()])
        .await?
        .pop()
        .ok_or_else(|| other(format!("organization {org_id} could not be read")))?;
    let root_id = organization
        .attrs
        .get("root_id")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();

    // The OU tree, breadth first (parents before children), children by name.
    let mut ou_ids = Vec::new();
    let mut parents = vec![root_id.clone()];
    let mut i = 0;
    while i < parents.len() {
        let parent = parents[i].clone();
        i += 1;
        let mut children = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = call("ListOrganizationalUnitsForParent", || {
                client
                    .list_organizational_units_for_parent()
                    .parent_id(&parent)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            children.extend(out.organizational_units().iter().filter_map(|ou| {
                Some((
                    ou.name().unwrap_or_default().to_string(),
                    ou.id()?.to_string(),
                ))
            }));
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        children.sort();
        for (_, id) in children {
            parents.push(id.clone());
            ou_ids.push(id);
        }
    }
    let ous = read("organizational_unit", ou_ids).await?;

    // Member accounts, by parent (in tree order), then name.
    let mut account_ids = Vec::new();
    let mut management_account_name = String::new();
    for parent in &parents {
        let mut children = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = call("ListAccountsForParent", || {
                client
                    .list_accounts_for_parent()
                    .parent_id(parent)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            for a in out.accounts() {
                let (Some(id), name) = (a.id(), a.name().unwrap_or_default()) else {
                    continue;
                };
                if id == management_account_id {
                    management_account_name = name.to_string();
                } else {
                    children.push((name.to_string(), id.to_string()));
                }
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        children.sort();
        account_ids.extend(children.into_iter().map(|(_, id)| id));
    }
    let accounts = read("account", account_ids).await?;

    // Customer-managed policies of every type, and where they are attached.
    let mut policy_ids = Vec::new();
    let mut aws_managed = Vec::new();
    for policy_type in POLICY_TYPES {
        let mut token: Option<String> = None;
        loop {
            let out = call("ListPolicies", || {
                client
                    .list_policies()
                    .filter(PolicyType::from(policy_type))
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
            for p in out.policies() {
                let Some(id) = p.id() else { continue };
                if p.aws_managed() {
                    aws_managed.push(id.to_string());
                } else {
                    policy_ids.push((p.name().unwrap_or_default().to_string(), id.to_string()));
                }
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    policy_ids.sort();
    let policy_ids: Vec<String> = policy_ids.into_iter().map(|(_, id)| id).collect();
    let policies = read("policy", policy_ids.clone()).await?;
    let mut attachments = Vec::new();
    for policy_id in &policy_ids {
        for target in targets_of(&client, policy_id).await? {
            attachments.push((policy_id.clone(), target));
        }
    }
    let mut aws_managed_attachments = 0;
    for policy_id in &aws_managed {
        aws_managed_attachments += targets_of(&client, policy_id).await?.len();
    }
    Ok(Org {
        organization,
        root_id,
        management_account_id,
        management_account_name,
        ous,
        accounts,
        policies,
        attachments,
        aws_managed_attachments,
    })
}

async fn targets_of(
    client: &aws_sdk_organizations::Client,
    policy_id: &str,
) -> Result<Vec<String>, AwsError> {
    let mut targets = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = call("ListTargetsForPolicy", || {
            client
                .list_targets_for_policy()
                .policy_id(policy_id)
                .set_next_token(token.clone())
                .send()
        })
        .await?;
        targets.extend(
            out.targets()
                .iter()
                .filter_map(|t| t.target_id())
                .map(str::to_string),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(targets);
        }
    }
}

/// A TOML basic string holding `s` literally: escaped for TOML, and `${` written `$${` so it is not
/// taken for an expression.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.replace("${", "$${").chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, else quoted (keys are not templates: no `$${`).
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        quote(s).replace("$${", "${")
    }
}

fn str_of<'a>(live: &'a Live, attr: &str) -> &'a str {
    live.attrs
        .get(attr)
        .and_then(Json::as_str)
        .unwrap_or_default()
}

fn list_of(live: &Live, attr: &str) -> String {
    let items: Vec<String> = live
        .attrs
        .get(attr)
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(quote)
        .collect();
    format!("[{}]", items.join(", "))
}

/// `tags = { ... }` when there are any.
fn tags_line(live: &Live) -> Option<String> {
    let tags = live.attrs.get("tags").and_then(Json::as_object)?;
    if tags.is_empty() {
        return None;
    }
    let mut pairs: Vec<(&String, &Json)> = tags.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let items: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{} = {}", key(k), quote(v.as_str().unwrap_or_default())))
        .collect();
    Some(format!("tags = {{ {} }}", items.join(", ")))
}

/// The generated configuration: the stack file, policy documents, and each address's live resource.
struct Rendered {
    stack_toml: String,
    /// (path relative to the root, content).
    policy_files: Vec<(String, String)>,
    /// `kind.name` -> what AWS has.
    live: IndexMap<String, Live>,
    counts: Vec<(&'static str, usize)>,
}

fn render(org: &Org, stack: &str, env: &str, root: &Path) -> Rendered {
    let mut live: IndexMap<String, Live> = IndexMap::new();
    let mut out = String::new();
    let org_id = org.organization.id.clone();
    out.push_str(&format!(
        "# Stack `{stack}`: AWS organization {org_id}, imported by `landfall import-org --env {env} \
         --stack {stack}`\n# on {}. `landfall plan --env {env}` should show no changes; edit from here.\n#\n",
        crate::state::now()
    ));
    out.push_str("# Left out on purpose:\n");
    out.push_str(&format!(
        "# - the management account {}{}: it is the organization itself, which landfall can neither create\n\
         #   nor close. Refer to its id as ${{organization.{ORG}.management_account_id}}.\n",
        org.management_account_id,
        if org.management_account_name.is_empty() {
            String::new()
        } else {
            format!(" ({})", org.management_account_name)
        }
    ));
    out.push_str(
        "# - AWS-managed policies (FullAWSAccess) and their attachments: AWS manages those.\n\
         # - delegated administrators: declare them as `delegated_administrator` and `landfall import` them.\n\
         # Accounts' `role_name` cannot be read from AWS; the default is assumed (it only matters at creation).\n",
    );

    // The organization.
    out.push_str(&format!(
        "\n[organization.{ORG}]\nfeature_set = {}\nenabled_policy_types = {}\naws_service_access_principals = {}\n\n\
         [organization.{ORG}.lifecycle]\nprevent_destroy = true\n",
        quote(str_of(&org.organization, "feature_set")),
        list_of(&org.organization, "enabled_policy_types"),
        list_of(&org.organization, "aws_service_access_principals"),
    ));
    live.insert(format!("organization.{ORG}"), org.organization.clone());

    // A reference to each root, OU and account, by AWS id.
    let mut refs: HashMap<String, String> = HashMap::new();
    refs.insert(
        org.root_id.clone(),
        format!("${{organization.{ORG}.root_id}}"),
    );
    if !org.management_account_id.is_empty() {
        refs.insert(
            org.management_account_id.clone(),
            format!("${{organization.{ORG}.management_account_id}}"),
        );
    }
    // As a TOML value: a whole-string reference, or the literal id when it is not imported.
    let reference = |refs: &HashMap<String, String>, id: &str| match refs.get(id) {
        Some(r) => format!("\"{r}\""),
        None => quote(id),
    };
    // Short names of targets, for attachment names.
    let mut short: HashMap<String, String> = HashMap::new();
    short.insert(org.root_id.clone(), "root".into());
    short.insert(org.management_account_id.clone(), "management".into());

    if !org.ous.is_empty() {
        out.push_str("\n# ---- Organizational units ----\n");
    }
    let mut names = Names::default();
    for ou in &org.ous {
        let name = names.take(&sanitize(str_of(ou, "name"), "ou"));
        out.push_str(&format!(
            "\n[organizational_unit.{name}]\nname = {}\nparent_id = {}\n",
            quote(str_of(ou, "name")),
            reference(&refs, str_of(ou, "parent_id")),
        ));
        if let Some(t) = tags_line(ou) {
            out.push_str(&format!("{t}\n"));
        }
        refs.insert(ou.id.clone(), format!("${{organizational_unit.{name}.id}}"));
        short.insert(ou.id.clone(), name.clone());
        live.insert(format!("organizational_unit.{name}"), ou.clone());
    }

    if !org.accounts.is_empty() {
        out.push_str("\n# ---- Accounts ----\n");
    }
    let mut names = Names::default();
    for account in &org.accounts {
        let name = names.take(&sanitize(str_of(account, "name"), "account"));
        out.push_str(&format!(
            "\n[account.{name}]\nname = {}\nemail = {}\nparent_id = {}\n",
            quote(str_of(account, "name")),
            quote(str_of(account, "email")),
            reference(&refs, str_of(account, "parent_id")),
        ));
        if let Some(t) = tags_line(account) {
            out.push_str(&format!("{t}\n"));
        }
        let status = str_of(account, "status");
        if !status.is_empty() && status != "ACTIVE" {
            out.push_str(&format!("# status: {status}\n"));
        }
        refs.insert(account.id.clone(), format!("${{account.{name}.id}}"));
        short.insert(account.id.clone(), name.clone());
        live.insert(format!("account.{name}"), account.clone());
    }

    if !org.policies.is_empty() {
        out.push_str("\n# ---- Policies ----\n");
    }
    let mut names = Names::default();
    let mut files = Names::default();
    let mut policy_files = Vec::new();
    let mut policy_refs: HashMap<String, (String, String)> = HashMap::new();
    for policy in &org.policies {
        let name = names.take(&sanitize(str_of(policy, "name"), "policy"));
        let text = str_of(policy, "content");
        let document = serde_json::from_str::<Json>(text)
            .ok()
            .filter(Json::is_object);
        // A readable file per document; one that is not JSON stays inline, as AWS holds it.
        let content = match document {
            Some(document) => {
                let mut file = files.take(&name);
                while root.join("policies").join(format!("{file}.json")).exists() {
                    file = files.take(&name);
                }
                let path = format!("policies/{file}.json");
                let mut pretty = serde_json::to_string_pretty(&document).unwrap_or_default();
                pretty.push('\n');
                policy_files.push((path.clone(), pretty));
                format!("'${{file(\"../{path}\")}}'")
            }
            None => quote(text),
        };
        out.push_str(&format!(
            "\n[policy.{name}]\nname = {}\n",
            quote(str_of(policy, "name"))
        ));
        let description = str_of(policy, "description");
        if !description.is_empty() {
            out.push_str(&format!("description = {}\n", quote(description)));
        }
        out.push_str(&format!(
            "type = {}\ncontent = {content}\n",
            quote(str_of(policy, "type"))
        ));
        if let Some(t) = tags_line(policy) {
            out.push_str(&format!("{t}\n"));
        }
        policy_refs.insert(
            policy.id.clone(),
            (format!("${{policy.{name}.id}}"), name.clone()),
        );
        live.insert(format!("policy.{name}"), policy.clone());
    }

    let attachments: Vec<&(String, String)> = org
        .attachments
        .iter()
        .filter(|(p, _)| policy_refs.contains_key(p))
        .collect();
    if !attachments.is_empty() {
        out.push_str("\n# ---- Policy attachments ----\n");
    }
    let mut names = Names::default();
    for (policy_id, target_id) in attachments {
        let (policy_ref, policy_name) = &policy_refs[policy_id];
        let target_name = short
            .get(target_id)
            .cloned()
            .unwrap_or_else(|| sanitize(target_id, "target"));
        let name = names.take(&format!("{policy_name}_{target_name}"));
        out.push_str(&format!(
            "\n[policy_attachment.{name}]\npolicy_id = \"{policy_ref}\"\ntarget_id = {}\n",
            reference(&refs, target_id),
        ));
        let id = format!("{policy_id}/{target_id}");
        let mut attrs = provider::Attrs::new();
        attrs.insert("policy_id".into(), policy_id.clone().into());
        attrs.insert("target_id".into(), target_id.clone().into());
        attrs.insert("id".into(), id.clone().into());
        live.insert(
            format!("policy_attachment.{name}"),
            Live {
                id,
                attrs,
                address: None,
                lineage: None,
            },
        );
    }
    let stack_toml = out;
    let counts = [
        "organization",
        "organizational_unit",
        "account",
        "policy",
        "policy_attachment",
    ]
    .into_iter()
    .map(|k| {
        (
            k,
            live.keys()
                .filter(|a| a.split('.').next() == Some(k))
                .count(),
        )
    })
    .collect();
    Rendered {
        stack_toml,
        policy_files,
        live,
        counts,
    }
}

/// Files written so far, undone when a later step fails.
#[derive(Default)]
struct Undo {
    created: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    changed: Vec<(PathBuf, String)>,
}

impl Undo {
    fn mkdirs(&mut self, dir: &Path) -> Result<(), Error> {
        let mut missing: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(dir)
            .map_err(|e| other(format!("cannot create {}: {e}", dir.display())))?;
        missing.reverse();
        self.dirs.extend(missing);
        Ok(())
    }

    fn create(&mut self, path: &Path, text: &str) -> Result<(), Error> {
        if let Some(dir) = path.parent() {
            self.mkdirs(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| other(format!("cannot create {}: {e}", path.display())))?;
        self.created.push(path.to_path_buf());
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|e| other(format!("cannot write {}: {e}", path.display())))
    }

    fn change(&mut self, path: &Path, before: String, after: &str) -> Result<(), Error> {
        std::fs::write(path, after)
            .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
        self.changed.push((path.to_path_buf(), before));
        Ok(())
    }

    fn undo(self) {
        for path in self.created.iter().rev() {
            let _ = std::fs::remove_file(path);
        }
        for (path, text) in self.changed {
            let _ = std::fs::write(path, text);
        }
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// How the environment file must change so the environment deploys `stack`.
enum EnvEdit {
    Create(String),
    Change(String, String),
    None,
}

/// `text` with `stack` added to its top-level `stacks`, or an error saying what to add by hand.
/// `effective` is the environment's stack list (includes merged), when it could be loaded.
fn add_stack(
    text: &str,
    effective: Option<&[String]>,
    stack: &str,
    file: &str,
) -> Result<Option<String>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{file} is not valid TOML: {e}"))?;
    let by_hand = |list: &[String]| {
        let mut list = list.to_vec();
        list.push(stack.to_string());
        format!(
            "environment file {file} does not list stack `{stack}`: add it as\n    stacks = [{}]\nthen run import-org again",
            list.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
        )
    };
    let header = text
        .lines()
        .position(|l| l.trim_start().starts_with('['))
        .unwrap_or(usize::MAX);
    let lines: Vec<&str> = text.lines().collect();
    let render_line = |list: &[String]| {
        let mut all: Vec<String> = list.iter().map(|s| quote(s)).collect();
        all.push(quote(stack));
        format!("stacks = [{}]", all.join(", "))
    };
    match table.get("stacks") {
        Some(toml::Value::Array(items)) => {
            let listed: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            if listed.iter().any(|s| s == stack) {
                return Ok(None);
            }
            // A single-line `stacks = [...]` before the first table is replaced; anything else is
            // left to the user.
            let at = lines.iter().take(header).position(|l| {
                let t = l.trim_start();
                t.strip_prefix("stacks")
                    .is_some_and(|r| r.trim_start().starts_with('='))
            });
            let Some(at) = at else {
                return Err(by_hand(&listed));
            };
            let line = lines[at];
            let (value, comment) = match line.find(']') {
                Some(end) => line.split_at(end + 1),
                None => return Err(by_hand(&listed)),
            };
            if !value.contains('[') || listed.len() != items.len() {
                return Err(by_hand(&listed));
            }
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            out[at] = format!("{}{comment}", render_line(&listed));
            Ok(Some(out.join("\n") + "\n"))
        }
        Some(_) => Err(by_hand(&[])),
        None => {
            let Some(effective) = effective else {
                return Err(by_hand(&[]));
            };
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let at = header.min(out.len());
            out.insert(at, render_line(effective));
            if at < lines.len() {
                out.insert(at + 1, String::new());
            }
            Ok(Some(out.join("\n") + "\n"))
        }
    }
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
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

fn state_exists(describe: &str, env: &str, stack: &str) -> Error {
    other(format!(
        "state for stack `{stack}` of environment `{env}` already exists ({describe}); import-org only \
         writes new state. Choose another --stack, or remove that state first"
    ))
}

#[allow(clippy::too_many_arguments)]
async fn write_all(
    req: &Request,
    aws: &Arc<Aws>,
    root: &Path,
    has_project: bool,
    env_file: &Path,
    env_edit: EnvEdit,
    stack_file: &Path,
    rendered: &Rendered,
    undo: &mut Undo,
) -> Result<(String, Vec<String>), Error> {
    let (env, stack) = (req.env.as_str(), req.stack.as_str());
    if !has_project {
        let project = sanitize(
            root.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default(),
            "landing_zone",
        )
        .replace('_', "-");
        undo.create(
            &root.join("landfall.toml"),
            &format!(
                "# Created by `landfall import-org`. See docs/configuration.md for every setting.\n\n\
                 [project]\nname = {}\nhome_region = {}\n\n[backend]\n# State on the local disk, under .landfall/state/.\nkind = \"local\"\n",
                quote(&project),
                quote(&aws.default_region()),
            ),
        )?;
    }
    match env_edit {
        EnvEdit::Create(text) => undo.create(env_file, &text)?,
        EnvEdit::Change(before, after) => undo.change(env_file, before, &after)?,
        EnvEdit::None => {}
    }
    for (path, text) in &rendered.policy_files {
        undo.create(&root.join(path), text)?;
    }
    undo.create(stack_file, &rendered.stack_toml)?;

    // Resolve the new configuration with the values AWS has, and record what apply would have.
    let ws = Workspace::open(root, env)?;
    let address = |local: &str| format!("{stack}.{local}");
    let mut known = Known::default();
    let stored = read_states(&ws, &ws.backend(Some(aws.clone()))).await?;
    for s in stored.values() {
        for r in &s.state.resources {
            known.attrs.insert(r.address.clone(), r.attributes.clone());
        }
    }
    for (local, live) in &rendered.live {
        known.attrs.insert(address(local), live.attrs.clone());
    }
    let (_, resolved) = ws.resolve(&known)?;
    let mut state = State::new(env, stack);
    let mut live_by_address: HashMap<String, Option<Live>> = HashMap::new();
    for inst in resolved.instances.iter().filter(|i| i.stack == stack) {
        let local = inst
            .address
            .strip_prefix(&format!("{stack}."))
            .unwrap_or(&inst.address);
        let live = rendered.live.get(local).ok_or_else(|| {
            other(format!(
                "{} is in the configuration but was not imported",
                inst.address
            ))
        })?;
        let mut attributes = desired_json(inst);
        for (k, v) in &live.attrs {
            attributes.insert(k.clone(), v.clone());
        }
        if let Some((k, _)) = attributes
            .iter()
            .find(|(_, v)| v.as_str() == Some("(known after apply)"))
        {
            return Err(other(format!(
                "{}: `{k}` did not resolve; this is a bug in import-org",
                inst.address
            )));
        }
        state.put(ResourceState {
            address: inst.address.clone(),
            kind: inst.kind.name.to_string(),
            id: live.id.clone(),
            account: plan::account_of(inst),
            region: (schema::kind(inst.kind.name).map(|k| k.scope) == Some(Scope::Regional)).then(
                || {
                    inst.region
                        .clone()
                        .unwrap_or_else(|| ws.home_region().into())
                },
            ),
            attributes,
            dependencies: inst
                .deps
                .iter()
                .map(|d| resolved.instances[d.0 as usize].address.clone())
                .collect(),
        });
        live_by_address.insert(inst.address.clone(), Some(live.clone()));
    }

    // What the next plan would show for this stack: nothing, unless the project adds something (such
    // as default tags) that AWS does not have.
    let mut states: IndexMap<String, State> =
        stored.into_iter().map(|(k, v)| (k, v.state)).collect();
    states.insert(stack.to_string(), state.clone());
    let observed = Observed {
        states: &states,
        live: &live_by_address,
        adopted: &HashMap::new(),
        duplicates: &HashMap::new(),
        copies: &HashMap::new(),
    };
    let filter = Filter {
        stacks: vec![stack.to_string()],
        ..Filter::default()
    };
    let mut warnings = Vec::new();
    match plan::diff(&resolved, &observed, &filter) {
        Ok(diffed) => {
            let mut by_attr: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for c in &diffed.changes {
                by_attr
                    .entry(format!("{:?}", c.action).to_lowercase())
                    .or_default()
                    .push(format!("{} ({})", c.address, c.changed.join(", ")));
            }
            for (action, list) in by_attr {
                warnings.push(format!(
                    "the next plan will {action} {}: the project's settings (e.g. [defaults] tags) add \
                     to what AWS has",
                    list.join("; ")
                ));
            }
        }
        Err(refusals) => warnings.extend(refusals.into_iter().map(|r| r.message)),
    }

    // State, under the stack's lock, only if there is none.
    let backend = ws.backend(Some(aws.clone()));
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| "unknown".into());
    let lock = LockInfo::new(&who, "import-org");
    backend.lock(env, stack, &lock, &[]).await?;
    let written: Result<(), Error> = async {
        if backend.read(env, stack).await?.is_some() {
            return Err(state_exists(&backend.describe(env, stack), env, stack));
        }
        state.serial = 1;
        backend.write(&state, None).await?;
        Ok(())
    }
    .await;
    let unlocked = backend.unlock(env, stack, &lock.id).await;
    written?;
    unlocked?;
    Ok((backend.describe(env, stack), warnings))
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
