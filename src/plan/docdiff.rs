//! Structural diffs of attribute values, for people: a policy document shows the statements that
//! changed (pretty-printed, line diff with context), a tag map the keys that changed, a rule set the
//! rules added and removed. Scalars stay one line (`a -> b`).
//!
//! Pure functions over JSON values; the renderers decide colour and layout.

use crate::expr::is_unknown_json;
use crate::report::KNOWN_AFTER_APPLY;
use serde_json::Value as Json;

/// How a line of an attribute's diff reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// The attribute's own line: `~ name = a -> b`, or the heading of a structural diff.
    Attr,
    Added,
    Removed,
    /// A key of a map whose value changed.
    Changed,
    /// Unchanged context around a document change.
    Context,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub sign: Sign,
    pub text: String,
}

impl Line {
    pub fn new(sign: Sign, text: impl Into<String>) -> Line {
        Line {
            sign,
            text: text.into(),
        }
    }

    /// The line with its sign in front, as the text renderer shows it.
    pub fn signed(&self) -> String {
        let mark = match self.sign {
            Sign::Attr => return self.text.clone(),
            Sign::Added => '+',
            Sign::Removed => '-',
            Sign::Changed => '~',
            Sign::Context => ' ',
        };
        format!("{mark} {}", self.text)
    }
}

/// Lines of unchanged document shown around each change.
const CONTEXT: usize = 2;
/// Above this many line pairs a document diff is shown as the whole old and new text.
const LCS_BUDGET: usize = 4_000_000;

/// A value the way plans show it on one line: JSON, unknown values spelled out bare.
pub fn scalar(v: &Json) -> String {
    if is_unknown_json(v) {
        return KNOWN_AFTER_APPLY.into();
    }
    shown(v).to_string()
}

/// `v` with every unknown value inside replaced by the words people read.
fn shown(v: &Json) -> Json {
    match v {
        _ if is_unknown_json(v) => KNOWN_AFTER_APPLY.into(),
        Json::Array(items) => items.iter().map(shown).collect(),
        Json::Object(map) => map.iter().map(|(k, v)| (k.clone(), shown(v))).collect(),
        other => other.clone(),
    }
}

/// The diff of attribute `name` from `before` to `after`. `note` follows the attribute's own line
/// (e.g. " (forces replacement)"); `width` aligns the names of one-line changes.
pub fn attribute(
    name: &str,
    width: usize,
    before: Option<&Json>,
    after: Option<&Json>,
    note: &str,
) -> Vec<Line> {
    let null = Json::Null;
    let (b, a) = (before.unwrap_or(&null), after.unwrap_or(&null));
    if let (Some(b), Some(a)) = (document(b), document(a)) {
        if is_flat_map(&b) && is_flat_map(&a) {
            return map_diff(name, &b, &a, note);
        }
        if let (Json::Array(bs), Json::Array(as_)) = (&b, &a) {
            return set_diff(name, bs, as_, note);
        }
        return text_diff(name, &pretty(&b), &pretty(&a), note);
    }
    vec![Line::new(
        Sign::Attr,
        format!("~ {name:<width$} = {} -> {}{note}", scalar(b), scalar(a)),
    )]
}

/// A value as a structured document: an object or array, or JSON text holding one (policy documents
/// are JSON text in AWS). Unknown values inside are spelled out; an unknown value is no document.
fn document(v: &Json) -> Option<Json> {
    match v {
        _ if is_unknown_json(v) => None,
        Json::Object(_) | Json::Array(_) => Some(shown(v)),
        Json::String(s) => match serde_json::from_str::<Json>(s) {
            Ok(doc @ (Json::Object(_) | Json::Array(_))) => Some(doc),
            _ => None,
        },
        _ => None,
    }
}

/// A map whose values are all scalars (tags, parameters): diffed key by key.
fn is_flat_map(v: &Json) -> bool {
    v.as_object()
        .is_some_and(|m| m.values().all(|v| !v.is_object() && !v.is_array()))
}

fn map_diff(name: &str, b: &Json, a: &Json, note: &str) -> Vec<Line> {
    let (b, a) = (b.as_object().unwrap(), a.as_object().unwrap());
    let mut lines = vec![Line::new(Sign::Attr, format!("~ {name}:{note}"))];
    for (k, v) in a {
        match b.get(k) {
            None => lines.push(Line::new(Sign::Added, format!("{k} = {}", scalar(v)))),
            Some(old) if old != v => lines.push(Line::new(
                Sign::Changed,
                format!("{k} = {} -> {}", scalar(old), scalar(v)),
            )),
            Some(_) => {}
        }
    }
    for (k, v) in b {
        if !a.contains_key(k) {
            lines.push(Line::new(Sign::Removed, format!("{k} = {}", scalar(v))));
        }
    }
    lines
}

/// Arrays compared as sets of elements (rule sets, lists of ARNs): what was removed, what was added.
/// An array whose elements are the same in another order is a reordering.
fn set_diff(name: &str, b: &[Json], a: &[Json], note: &str) -> Vec<Line> {
    let removed: Vec<&Json> = b.iter().filter(|x| !a.contains(x)).collect();
    let added: Vec<&Json> = a.iter().filter(|x| !b.contains(x)).collect();
    let mut lines = vec![Line::new(Sign::Attr, format!("~ {name}:{note}"))];
    if removed.is_empty() && added.is_empty() {
        lines.push(Line::new(Sign::Changed, "same elements, another order"));
    }
    lines.extend(
        removed
            .into_iter()
            .map(|x| Line::new(Sign::Removed, compact(x))),
    );
    lines.extend(
        added
            .into_iter()
            .map(|x| Line::new(Sign::Added, compact(x))),
    );
    lines
}

fn compact(v: &Json) -> String {
    serde_json::to_string(&sorted(v)).unwrap_or_default()
}

/// Pretty-printed with object keys sorted, so key order never shows as a change.
fn pretty(v: &Json) -> String {
    serde_json::to_string_pretty(&sorted(v)).unwrap_or_default()
}

fn sorted(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Json::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Json::Array(xs) => Json::Array(xs.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// A line diff of two texts with [`CONTEXT`] lines around each change; `...` marks skipped lines.
fn text_diff(name: &str, before: &str, after: &str, note: &str) -> Vec<Line> {
    let mut lines = vec![Line::new(Sign::Attr, format!("~ {name}:{note}"))];
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let ops = edit_script(&b, &a);
    let near_change = |i: usize| {
        let lo = i.saturating_sub(CONTEXT);
        let hi = (i + CONTEXT).min(ops.len() - 1);
        ops[lo..=hi].iter().any(|op| !matches!(op, Op::Keep(_)))
    };
    let mut skipped = false;
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Keep(_) if !near_change(i) => {
                if !skipped {
                    lines.push(Line::new(Sign::Context, "..."));
                    skipped = true;
                }
            }
            Op::Keep(text) => {
                lines.push(Line::new(Sign::Context, *text));
                skipped = false;
            }
            Op::Remove(text) => {
                lines.push(Line::new(Sign::Removed, *text));
                skipped = false;
            }
            Op::Add(text) => {
                lines.push(Line::new(Sign::Added, *text));
                skipped = false;
            }
        }
    }
    lines
}

#[derive(Debug, PartialEq)]
enum Op<'a> {
    Keep(&'a str),
    Remove(&'a str),
    Add(&'a str),
}

/// The shortest edit script from `b` to `a` by longest common subsequence (documents are small; very
/// large ones fall back to "all removed, all added").
fn edit_script<'a>(b: &[&'a str], a: &[&'a str]) -> Vec<Op<'a>> {
    if b.len().saturating_mul(a.len()) > LCS_BUDGET {
        let mut ops: Vec<Op> = b.iter().map(|l| Op::Remove(l)).collect();
        ops.extend(a.iter().map(|l| Op::Add(l)));
        return ops;
    }
    // lcs[i][j]: length of the LCS of b[i..] and a[j..].
    let mut lcs = vec![vec![0u32; a.len() + 1]; b.len() + 1];
    for i in (0..b.len()).rev() {
        for j in (0..a.len()).rev() {
            lcs[i][j] = if b[i] == a[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut ops) = (0, 0, Vec::new());
    while i < b.len() || j < a.len() {
        if i < b.len() && j < a.len() && b[i] == a[j] {
            ops.push(Op::Keep(b[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < b.len() && (j == a.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(Op::Remove(b[i]));
            i += 1;
        } else {
            ops.push(Op::Add(a[j]));
            j += 1;
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn signed(lines: &[Line]) -> Vec<String> {
        lines.iter().map(Line::signed).collect()
    }

    #[test]
    fn scalars_stay_one_line() {
        let lines = attribute(
            "cidr_block",
            0,
            Some(&json!("10.0.0.0/16")),
            Some(&json!("10.1.0.0/16")),
            "",
        );
        assert_eq!(
            signed(&lines),
            [r#"~ cidr_block = "10.0.0.0/16" -> "10.1.0.0/16""#]
        );
        let unknown = attribute(
            "id",
            0,
            Some(&json!("vpc-1")),
            Some(&crate::expr::unknown_json()),
            " (x)",
        );
        assert_eq!(
            signed(&unknown),
            [format!(r#"~ id = "vpc-1" -> {KNOWN_AFTER_APPLY} (x)"#)]
        );
    }

    #[test]
    fn tag_maps_show_the_keys_that_changed() {
        let before = json!({"Team": "core", "Env": "dev", "Old": "x"});
        let after = json!({"Team": "core", "Env": "prod", "New": "y"});
        let lines = attribute("tags", 0, Some(&before), Some(&after), "");
        assert_eq!(
            signed(&lines),
            [
                "~ tags:",
                r#"~ Env = "dev" -> "prod""#,
                r#"+ New = "y""#,
                r#"- Old = "x""#
            ]
        );
    }

    #[test]
    fn policy_text_diffs_by_statement_lines_with_context() {
        let before = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]})
        .to_string();
        let after = json!({"Statement": [
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}], "Version": "2012-10-17"})
        .to_string();
        let lines = signed(&attribute(
            "content",
            0,
            Some(&json!(before)),
            Some(&json!(after)),
            "",
        ));
        assert_eq!(lines[0], "~ content:");
        assert!(
            lines.contains(&r#"-       "Action": "ec2:*","#.to_string()),
            "{lines:#?}"
        );
        assert!(
            lines.contains(&r#"+       "Action": "iam:*","#.to_string()),
            "{lines:#?}"
        );
        // Key order is not a change, and unchanged statements are context or skipped.
        assert_eq!(
            lines.iter().filter(|l| l.starts_with(['+', '-'])).count(),
            2,
            "{lines:#?}"
        );
        assert!(lines.iter().any(|l| l == "  ..."), "{lines:#?}");
    }

    #[test]
    fn rule_sets_show_rules_added_and_removed() {
        let before = json!([{"from_port": 443, "to_port": 443}, {"from_port": 22, "to_port": 22}]);
        let after = json!([{"from_port": 443, "to_port": 443}, {"from_port": 80, "to_port": 80}]);
        let lines = signed(&attribute(
            "ingress",
            0,
            Some(&before),
            Some(&after),
            " (forces replacement)",
        ));
        assert_eq!(
            lines,
            [
                "~ ingress: (forces replacement)",
                r#"- {"from_port":22,"to_port":22}"#,
                r#"+ {"from_port":80,"to_port":80}"#
            ]
        );
        let reordered = attribute(
            "ingress",
            0,
            Some(&before),
            Some(&json!([before[1], before[0]])),
            "",
        );
        assert_eq!(signed(&reordered)[1], "~ same elements, another order");
    }

    #[test]
    fn a_document_added_where_there_was_none_is_shown_whole() {
        let lines = signed(&attribute("policy", 0, None, Some(&json!({"a": [1]})), ""));
        assert_eq!(lines[0], "~ policy = null -> {\"a\":[1]}");
    }

    #[test]
    fn huge_documents_fall_back_to_whole_texts() {
        let b: Vec<String> = (0..3000).map(|i| format!("l{i}")).collect();
        let a: Vec<String> = (0..3000).map(|i| format!("m{i}")).collect();
        let (b, a): (Vec<&str>, Vec<&str>) = (
            b.iter().map(|s| s.as_str()).collect(),
            a.iter().map(|s| s.as_str()).collect(),
        );
        let ops = edit_script(&b, &a);
        assert_eq!(ops.len(), 6000);
        assert_eq!(ops[0], Op::Remove("l0"));
    }
}
