//! Names next to organization ids, so a reviewer reads `111111111111` as account `prod` and
//! `ou-ab12-cdef3456` as OU `workloads`: collected from state by the planner, shown by the renderers.

use crate::state::State;
use indexmap::IndexMap;
use serde_json::Value as Json;

const MANAGEMENT: &str = "the management account";

/// Ids of accounts, OUs, the root and the management account in `states`, with what to call them.
pub fn collect<'a>(states: impl IntoIterator<Item = &'a State>) -> IndexMap<String, String> {
    let mut names = IndexMap::new();
    for r in states.into_iter().flat_map(|s| &s.resources) {
        let attr = |k: &str| r.attributes.get(k).and_then(Json::as_str);
        let name = attr("name").unwrap_or_else(|| r.address.rsplit('.').next().unwrap_or(""));
        match r.kind.as_str() {
            "account" => {
                names.insert(r.id.clone(), format!("account {name}"));
            }
            "organizational_unit" => {
                names.insert(r.id.clone(), format!("OU {name}"));
            }
            "organization" => {
                if let Some(root) = attr("root_id") {
                    names.insert(root.to_string(), "the root".into());
                }
                if let Some(id) = attr("management_account_id") {
                    names.insert(id.to_string(), MANAGEMENT.into());
                }
            }
            _ => {}
        }
    }
    names
}

/// `text` with the name after every quoted id it knows: `"ou-ab12-cdef3456"` becomes
/// `"ou-ab12-cdef3456" (OU workloads)`.
pub fn annotate(text: &str, names: &IndexMap<String, String>) -> String {
    if names.is_empty() || !text.contains('"') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        let Some(len) = rest[open + 1..].find('"') else {
            break;
        };
        let close = open + 1 + len;
        out.push_str(&rest[..=close]);
        if let Some(name) = names.get(&rest[open + 1..close]) {
            out.push_str(&format!(" ({name})"));
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Where a change lands: `account prod (111111111111), eu-west-1`.
pub fn location(
    account: Option<&str>,
    region: Option<&str>,
    names: &IndexMap<String, String>,
) -> String {
    let account = match account {
        None => match names.iter().find(|(_, n)| *n == MANAGEMENT) {
            Some((id, _)) => format!("{MANAGEMENT} ({id})"),
            None => MANAGEMENT.to_string(),
        },
        Some(super::NEW_ACCOUNT) => "a new account".to_string(),
        Some(id) => match names.get(id) {
            Some(name) => format!("{name} ({id})"),
            None => format!("account {id}"),
        },
    };
    match region {
        Some(r) => format!("{account}, {r}"),
        None => format!("{account}, global"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> IndexMap<String, String> {
        [
            ("111111111111", "account prod"),
            ("ou-ab12-cdef3456", "OU workloads"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn quoted_ids_get_their_names_and_other_text_is_untouched() {
        let n = names();
        assert_eq!(
            annotate(r#"~ parent_id = "r-1" -> "ou-ab12-cdef3456""#, &n),
            r#"~ parent_id = "r-1" -> "ou-ab12-cdef3456" (OU workloads)"#
        );
        assert_eq!(
            annotate(r#"+ x = "unterminated"#, &n),
            r#"+ x = "unterminated"#
        );
        assert_eq!(
            annotate("no quotes 111111111111", &n),
            "no quotes 111111111111"
        );
    }

    #[test]
    fn locations_name_account_and_region() {
        let n = names();
        assert_eq!(
            location(Some("111111111111"), Some("eu-west-1"), &n),
            "account prod (111111111111), eu-west-1"
        );
        assert_eq!(location(None, None, &n), "the management account, global");
        let mut with_management = n.clone();
        with_management.insert("999999999999".into(), MANAGEMENT.into());
        assert_eq!(
            location(None, Some("eu-west-1"), &with_management),
            "the management account (999999999999), eu-west-1"
        );
        assert_eq!(
            location(Some(crate::plan::NEW_ACCOUNT), Some("us-east-1"), &n),
            "a new account, us-east-1"
        );
        assert_eq!(
            location(Some("222222222222"), Some("us-east-1"), &n),
            "account 222222222222, us-east-1"
        );
    }
}
