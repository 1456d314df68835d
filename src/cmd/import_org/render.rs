//! The organization as configuration: the stack file (TOML), one JSON file per policy document, and
//! the live resource behind each address the stack declares.

use super::discover::Org;
use crate::provider::{self, Live};
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The organization's resource name in the generated stack.
pub(crate) const ORG: &str = "main";

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
pub(crate) struct Names(HashSet<String>);

impl Names {
    pub(crate) fn take(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 1;
        while !self.0.insert(name.clone()) {
            n += 1;
            name = format!("{base}_{n}");
        }
        name
    }
}

/// A TOML basic string holding `s` literally: escaped for TOML, and `${` written `$${` so it is not
/// taken for an expression.
pub(crate) fn quote(s: &str) -> String {
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
pub(crate) fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        quote(s).replace("$${", "${")
    }
}

pub(crate) fn str_of<'a>(live: &'a Live, attr: &str) -> &'a str {
    live.attrs
        .get(attr)
        .and_then(Json::as_str)
        .unwrap_or_default()
}

pub(crate) fn list_of(live: &Live, attr: &str) -> String {
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
pub(crate) fn tags_line(live: &Live) -> Option<String> {
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
pub(crate) struct Rendered {
    pub(crate) stack_toml: String,
    /// (path relative to the root, content).
    pub(crate) policy_files: Vec<(String, String)>,
    /// `kind.name` -> what AWS has.
    pub(crate) live: IndexMap<String, Live>,
    pub(crate) counts: Vec<(&'static str, usize)>,
}

/// The stack file, in the order a reader wants: the organization, OUs (parents first), accounts,
/// policies, attachments. Each value that is another imported resource's id is a reference to it.
pub(crate) fn render(org: &Org, stack: &str, env: &str, root: &Path) -> Rendered {
    let mut w = Writer::new(org);
    w.header(org, stack, env);
    w.ous(org);
    w.accounts(org);
    let (policy_files, policy_refs) = w.policies(org, root);
    w.attachments(org, &policy_refs);
    let counts = [
        "organization",
        "organizational_unit",
        "account",
        "policy",
        "policy_attachment",
    ]
    .into_iter()
    .map(|k| {
        let n = w.live.keys().filter(|a| a.split('.').next() == Some(k));
        (k, n.count())
    })
    .collect();
    Rendered {
        stack_toml: w.out,
        policy_files,
        live: w.live,
        counts,
    }
}

/// By policy id: the reference to the policy, and its resource name.
type PolicyRefs = HashMap<String, (String, String)>;

/// The stack file as it is written, and what it refers to.
struct Writer {
    out: String,
    /// `kind.name` -> what AWS has.
    live: IndexMap<String, Live>,
    /// A reference to each root, OU and account, by AWS id.
    refs: HashMap<String, String>,
    /// Short names of targets, for attachment names.
    short: HashMap<String, String>,
}

impl Writer {
    fn new(org: &Org) -> Writer {
        let mut refs = HashMap::new();
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
        let mut short = HashMap::new();
        short.insert(org.root_id.clone(), "root".into());
        short.insert(org.management_account_id.clone(), "management".into());
        Writer {
            out: String::new(),
            live: IndexMap::new(),
            refs,
            short,
        }
    }

    /// As a TOML value: a whole-string reference, or the literal id when it is not imported.
    fn reference(&self, id: &str) -> String {
        match self.refs.get(id) {
            Some(r) => format!("\"{r}\""),
            None => quote(id),
        }
    }

    /// What the file is, what it leaves out, and the organization.
    fn header(&mut self, org: &Org, stack: &str, env: &str) {
        let org_id = org.organization.id.clone();
        self.out.push_str(&format!(
        "# Stack `{stack}`: AWS organization {org_id}, imported by `landfall import-org --env {env} \
         --stack {stack}`\n# on {}. `landfall plan --env {env}` should show no changes; edit from here.\n#\n",
        crate::state::now()
    ));
        self.out.push_str("# Left out on purpose:\n");
        self.out.push_str(&format!(
        "# - the management account {}{}: it is the organization itself, which landfall can neither create\n\
         #   nor close. Refer to its id as ${{organization.{ORG}.management_account_id}}.\n",
        org.management_account_id,
        if org.management_account_name.is_empty() {
            String::new()
        } else {
            format!(" ({})", org.management_account_name)
        }
    ));
        self.out.push_str(
        "# - AWS-managed policies (FullAWSAccess) and their attachments: AWS manages those.\n\
         # - delegated administrators: declare them as `delegated_administrator` and `landfall import` them.\n\
         # Accounts' `role_name` cannot be read from AWS; the default is assumed (it only matters at creation).\n",
    );

        // The organization.
        self.out.push_str(&format!(
        "\n[organization.{ORG}]\nfeature_set = {}\nenabled_policy_types = {}\naws_service_access_principals = {}\n\n\
         [organization.{ORG}.lifecycle]\nprevent_destroy = true\n",
        quote(str_of(&org.organization, "feature_set")),
        list_of(&org.organization, "enabled_policy_types"),
        list_of(&org.organization, "aws_service_access_principals"),
    ));
        self.live
            .insert(format!("organization.{ORG}"), org.organization.clone());
    }

    fn ous(&mut self, org: &Org) {
        if !org.ous.is_empty() {
            self.out.push_str("\n# ---- Organizational units ----\n");
        }
        let mut names = Names::default();
        for ou in &org.ous {
            let name = names.take(&sanitize(str_of(ou, "name"), "ou"));
            self.out.push_str(&format!(
                "\n[organizational_unit.{name}]\nname = {}\nparent_id = {}\n",
                quote(str_of(ou, "name")),
                self.reference(str_of(ou, "parent_id")),
            ));
            if let Some(t) = tags_line(ou) {
                self.out.push_str(&format!("{t}\n"));
            }
            self.refs
                .insert(ou.id.clone(), format!("${{organizational_unit.{name}.id}}"));
            self.short.insert(ou.id.clone(), name.clone());
            self.live
                .insert(format!("organizational_unit.{name}"), ou.clone());
        }
    }

    fn accounts(&mut self, org: &Org) {
        if !org.accounts.is_empty() {
            self.out.push_str("\n# ---- Accounts ----\n");
        }
        let mut names = Names::default();
        for account in &org.accounts {
            let name = names.take(&sanitize(str_of(account, "name"), "account"));
            self.out.push_str(&format!(
                "\n[account.{name}]\nname = {}\nemail = {}\nparent_id = {}\n",
                quote(str_of(account, "name")),
                quote(str_of(account, "email")),
                self.reference(str_of(account, "parent_id")),
            ));
            if let Some(t) = tags_line(account) {
                self.out.push_str(&format!("{t}\n"));
            }
            let status = str_of(account, "status");
            if !status.is_empty() && status != "ACTIVE" {
                self.out.push_str(&format!("# status: {status}\n"));
            }
            self.refs
                .insert(account.id.clone(), format!("${{account.{name}.id}}"));
            self.short.insert(account.id.clone(), name.clone());
            self.live.insert(format!("account.{name}"), account.clone());
        }
    }

    /// The policies, with a JSON file each; returns the files and, by policy id, (reference, name).
    fn policies(&mut self, org: &Org, root: &Path) -> (Vec<(String, String)>, PolicyRefs) {
        if !org.policies.is_empty() {
            self.out.push_str("\n# ---- Policies ----\n");
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
            self.out.push_str(&format!(
                "\n[policy.{name}]\nname = {}\n",
                quote(str_of(policy, "name"))
            ));
            let description = str_of(policy, "description");
            if !description.is_empty() {
                self.out
                    .push_str(&format!("description = {}\n", quote(description)));
            }
            self.out.push_str(&format!(
                "type = {}\ncontent = {content}\n",
                quote(str_of(policy, "type"))
            ));
            if let Some(t) = tags_line(policy) {
                self.out.push_str(&format!("{t}\n"));
            }
            policy_refs.insert(
                policy.id.clone(),
                (format!("${{policy.{name}.id}}"), name.clone()),
            );
            self.live.insert(format!("policy.{name}"), policy.clone());
        }

        (policy_files, policy_refs)
    }

    fn attachments(&mut self, org: &Org, policy_refs: &PolicyRefs) {
        let attachments: Vec<&(String, String)> = org
            .attachments
            .iter()
            .filter(|(p, _)| policy_refs.contains_key(p))
            .collect();
        if !attachments.is_empty() {
            self.out.push_str("\n# ---- Policy attachments ----\n");
        }
        let mut names = Names::default();
        for (policy_id, target_id) in attachments {
            let (policy_ref, policy_name) = &policy_refs[policy_id];
            let target_name = self
                .short
                .get(target_id)
                .cloned()
                .unwrap_or_else(|| sanitize(target_id, "target"));
            let name = names.take(&format!("{policy_name}_{target_name}"));
            self.out.push_str(&format!(
                "\n[policy_attachment.{name}]\npolicy_id = \"{policy_ref}\"\ntarget_id = {}\n",
                self.reference(target_id),
            ));
            let id = format!("{policy_id}/{target_id}");
            let mut attrs = provider::Attrs::new();
            attrs.insert("policy_id".into(), policy_id.clone().into());
            attrs.insert("target_id".into(), target_id.clone().into());
            attrs.insert("id".into(), id.clone().into());
            self.live.insert(
                format!("policy_attachment.{name}"),
                Live {
                    id,
                    attrs,
                    address: None,
                    lineage: None,
                },
            );
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
}
