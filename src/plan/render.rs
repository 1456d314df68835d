//! Plans for people: terminal text (`+ ~ - -/+`, colour optional) and Markdown for merge-request comments.

use super::{Action, Change, Drift, Plan, Summary};
use crate::expr::is_unknown_json;
use crate::report::KNOWN_AFTER_APPLY;
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::fmt::Write;

/// GitLab's note limit is 1,000,000 and GitHub's comment limit 65,536 characters; stay under both.
pub const MARKDOWN_LIMIT: usize = 60_000;

#[derive(Clone, Copy)]
struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn action(self, action: Action, text: &str) -> String {
        let code = match action {
            Action::Create => "32",
            Action::Update => "33",
            Action::Replace | Action::Delete => "31",
            Action::Forget | Action::Import => "36",
        };
        self.wrap(code, text)
    }
    fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
}

/// One-line summary, Terraform style.
pub fn summary_line(s: &Summary) -> String {
    let mut line = format!(
        "{} to add, {} to change, {} to replace, {} to destroy",
        s.add, s.change, s.replace, s.destroy
    );
    if s.forget > 0 {
        let _ = write!(line, ", {} to forget", s.forget);
    }
    if s.import > 0 {
        let _ = write!(line, ", {} to import", s.import);
    }
    if s.moved > 0 {
        let _ = write!(line, ", {} moved", s.moved);
    }
    line.push('.');
    line
}

fn describe_action(c: &Change) -> String {
    match c.action {
        Action::Create => match &c.reason {
            Some(r) => format!("create ({r})"),
            None => "create".into(),
        },
        Action::Update => "update in place".into(),
        Action::Replace => {
            let order = if crate::schema::kind(&c.kind).is_some_and(|k| k.create_before_destroy) {
                "create the new one, then delete the old"
            } else {
                "delete, then create"
            };
            let why = if c.replace_because.is_empty() {
                c.reason.clone().unwrap_or_default()
            } else {
                format!(
                    "{} cannot change in place",
                    c.replace_because
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            format!("replace: {why}; {order}")
        }
        Action::Delete => format!("delete: {}", c.reason.as_deref().unwrap_or("destroy")),
        Action::Forget => format!(
            "forget: {}",
            c.reason.as_deref().unwrap_or("removed from state only")
        ),
        Action::Import => format!(
            "import: {}",
            c.reason
                .as_deref()
                .unwrap_or("found in AWS by its landfall:address tag")
        ),
    }
}

/// An attribute value as the plan shows it: JSON, with unknown values spelled out.
fn value(v: &Json) -> String {
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

/// The attribute lines of a change: every configured value for a create, what changes otherwise.
fn attr_lines(c: &Change) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = c
        .before
        .as_ref()
        .and_then(Json::as_object)
        .unwrap_or(&empty);
    let after = c.after.as_ref().and_then(Json::as_object).unwrap_or(&empty);
    match c.action {
        Action::Create => {
            let width = after.keys().map(String::len).max().unwrap_or(0);
            after
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("+ {k:<width$} = {}", value(v)))
                .collect()
        }
        Action::Update | Action::Replace => {
            let width = c.changed.iter().map(String::len).max().unwrap_or(0);
            let mut lines: Vec<String> = c
                .changed
                .iter()
                .map(|k| {
                    let forces = if c.replace_because.contains(k) {
                        " (forces replacement)"
                    } else {
                        ""
                    };
                    format!(
                        "~ {k:<width$} = {} -> {}{forces}",
                        before.get(k).map_or("null".into(), value),
                        after.get(k).map_or("null".into(), value),
                    )
                })
                .collect();
            for k in &c.replace_because {
                if !c.changed.contains(k) {
                    lines.push(format!("~ {k} changes (forces replacement)"));
                }
            }
            lines
        }
        Action::Delete | Action::Forget | Action::Import => Vec::new(),
    }
}

fn drift_lines(d: &Drift) -> Vec<String> {
    if d.deleted {
        return vec!["deleted outside landfall".into()];
    }
    d.attributes
        .iter()
        .map(|a| format!("~ {} = {} -> {}", a.name, value(&a.state), value(&a.live)))
        .collect()
}

/// Changes grouped by stack, in stack order.
fn by_stack(plan: &Plan) -> IndexMap<&str, Vec<&Change>> {
    let mut groups: IndexMap<&str, Vec<&Change>> = plan
        .stacks
        .keys()
        .map(|s| (s.as_str(), Vec::new()))
        .collect();
    for c in &plan.resource_changes {
        groups.entry(c.stack.as_str()).or_default().push(c);
    }
    groups.retain(|_, v| !v.is_empty());
    groups
}

/// The plan for a terminal.
pub fn text(plan: &Plan, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    if !plan.drift.is_empty() {
        let _ = writeln!(
            out,
            "{}\n",
            p.bold("Changed outside landfall since the last apply:")
        );
        for d in &plan.drift {
            let _ = writeln!(out, "  {} {}", p.wrap("33", "~"), p.bold(&d.address));
            for line in drift_lines(d) {
                let _ = writeln!(out, "      {line}");
            }
        }
        out.push('\n');
    }
    if !plan.kept.is_empty() {
        let _ = writeln!(
            out,
            "{}\n  {}\n",
            p.bold("Kept because of lifecycle.prevent_destroy (with what they depend on):"),
            plan.kept.join("\n  ")
        );
    }
    if !plan.duplicates.is_empty() {
        let _ = writeln!(
            out,
            "{}\n",
            p.bold("Exist more than once in AWS (the same landfall:address tag), neither imported nor created:")
        );
        for d in &plan.duplicates {
            let _ = writeln!(
                out,
                "  {} {} ({})\n      {}",
                p.wrap("31", "!"),
                p.bold(&d.address),
                d.ids.join(", "),
                d.advice()
            );
        }
        out.push('\n');
    }
    if !plan.copies.is_empty() {
        let _ = writeln!(
            out,
            "{}\n",
            p.bold("Copies of resources in state (the same landfall:address tag), left alone:")
        );
        for c in &plan.copies {
            let _ = writeln!(
                out,
                "  {} {} ({})\n      {}",
                p.wrap("33", "!"),
                p.bold(&c.address),
                c.id,
                c.advice()
            );
        }
        out.push('\n');
    }
    if plan.resource_changes.is_empty() && plan.moved.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.bold(&format!(
                "No changes. Environment `{}` matches the configuration.",
                plan.environment
            ))
        );
        return out;
    }
    let verb = if plan.destroy { "destroy" } else { "apply" };
    let _ = writeln!(
        out,
        "landfall would {verb} these changes to environment `{}`:",
        plan.environment
    );
    if !plan.moved.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.bold("moved ([[moved]] entries; state only, AWS is not touched)")
        );
        for m in &plan.moved {
            let _ = writeln!(out, "  {} has moved to {}", m.from, p.bold(&m.to));
        }
    }
    for (stack, changes) in by_stack(plan) {
        let _ = writeln!(out, "\n{}", p.bold(&format!("stack {stack}")));
        for c in changes {
            let _ = writeln!(
                out,
                "  {} {} ({})",
                p.action(c.action, c.action.symbol()),
                p.bold(&c.address),
                describe_action(c)
            );
            for line in attr_lines(c) {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    let _ = writeln!(out, "\n{} {}", p.bold("Plan:"), summary_line(&plan.summary));
    out
}

/// The plan as a merge-request comment: a summary table by stack, destructive changes first, then a
/// collapsible section per stack. Never longer than [`MARKDOWN_LIMIT`] characters.
pub fn markdown(plan: &Plan) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "### landfall plan: `{}`\n", plan.environment);
    if plan.resource_changes.is_empty()
        && plan.drift.is_empty()
        && plan.duplicates.is_empty()
        && plan.copies.is_empty()
        && plan.moved.is_empty()
    {
        let _ = writeln!(
            head,
            "**No changes.** The environment matches the configuration."
        );
        return head;
    }
    let _ = writeln!(head, "**{}**\n", summary_line(&plan.summary));
    if !plan.duplicates.is_empty() {
        let _ = writeln!(
            head,
            "#### :no_entry: Exist more than once in AWS (not imported, not created)\n"
        );
        for d in &plan.duplicates {
            let _ = writeln!(
                head,
                "- `{}`: {} ({})",
                d.address,
                d.ids.join(", "),
                d.advice()
            );
        }
        let _ = writeln!(head);
    }
    if !plan.copies.is_empty() {
        let _ = writeln!(
            head,
            "#### :warning: Copies of resources in state, left alone\n"
        );
        for c in &plan.copies {
            let _ = writeln!(head, "- `{}`: {} ({})", c.address, c.id, c.advice());
        }
        let _ = writeln!(head);
    }
    let _ = writeln!(head, "| stack | add | change | replace | destroy |");
    let _ = writeln!(head, "|---|---:|---:|---:|---:|");
    for (stack, changes) in by_stack(plan) {
        let count = |a: Action| changes.iter().filter(|c| c.action == a).count();
        let _ = writeln!(
            head,
            "| {stack} | {} | {} | {} | {} |",
            count(Action::Create),
            count(Action::Update),
            count(Action::Replace),
            count(Action::Delete)
        );
    }
    let destructive: Vec<&Change> = plan
        .resource_changes
        .iter()
        .filter(|c| c.action.is_destructive())
        .collect();
    if !destructive.is_empty() {
        let _ = writeln!(head, "\n#### :warning: Destructive changes\n");
        for c in &destructive {
            let _ = writeln!(head, "- `{}`: {}", c.address, describe_action(c));
        }
    }
    if !plan.moved.is_empty() {
        let _ = writeln!(head, "\n#### Moved (state only, AWS is not touched)\n");
        for m in &plan.moved {
            let _ = writeln!(head, "- `{}` has moved to `{}`", m.from, m.to);
        }
    }
    if !plan.drift.is_empty() {
        let _ = writeln!(head, "\n#### Changed outside landfall\n");
        for d in &plan.drift {
            let what = if d.deleted {
                "deleted".to_string()
            } else {
                d.attributes
                    .iter()
                    .map(|a| format!("`{}`", a.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(head, "- `{}`: {what}", d.address);
        }
    }
    let mut sections = Vec::new();
    for (stack, changes) in by_stack(plan) {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\n<details><summary>stack <code>{stack}</code>: {} change{}</summary>\n\n```diff",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        );
        // Destructive first within the stack too.
        let mut ordered: Vec<&&Change> = changes.iter().collect();
        ordered.sort_by_key(|c| !c.action.is_destructive());
        for c in ordered {
            let sign = match c.action {
                Action::Create => "+",
                Action::Delete | Action::Replace | Action::Forget => "-",
                Action::Update | Action::Import => "!",
            };
            let _ = writeln!(s, "{sign} {} ({})", c.address, describe_action(c));
            for line in attr_lines(c) {
                let _ = writeln!(s, "{sign}     {}", line.replace("```", "'''"));
            }
        }
        let _ = writeln!(s, "```\n</details>");
        sections.push(s);
    }
    let mut out = head;
    let note_room = 200;
    for (i, s) in sections.iter().enumerate() {
        if out.len() + s.len() + note_room > MARKDOWN_LIMIT {
            let _ = writeln!(
                out,
                "\n> **Truncated:** {} of {} stack sections are not shown to stay under {MARKDOWN_LIMIT} characters. Run `landfall plan --env {}` or read the plan artifact for the full plan.",
                sections.len() - i,
                sections.len(),
                plan.environment
            );
            return out;
        }
        out.push_str(s);
    }
    clamp(out)
}

/// Cuts text over [`MARKDOWN_LIMIT`] (a summary with thousands of destructive changes), saying so.
fn clamp(mut out: String) -> String {
    const NOTE: &str = "\n\n> **Truncated** to stay under the comment size limit; see the plan artifact for the rest.\n";
    if out.len() <= MARKDOWN_LIMIT {
        return out;
    }
    let mut cut = MARKDOWN_LIMIT - NOTE.len();
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out.push_str(NOTE);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Basis, FORMAT_VERSION};
    use serde_json::json;

    fn change(address: &str, stack: &str, action: Action) -> Change {
        Change {
            address: address.into(),
            kind: "vpc".into(),
            stack: stack.into(),
            account: None,
            region: Some("eu-west-1".into()),
            action,
            id: (action != Action::Create).then(|| "vpc-1".into()),
            before: (action != Action::Create)
                .then(|| json!({"cidr_block": "10.0.0.0/16", "id": "vpc-1"})),
            after: (action != Action::Delete)
                .then(|| json!({"cidr_block": "10.1.0.0/16", "id": crate::expr::unknown_json()})),
            changed: if action == Action::Create {
                vec![]
            } else {
                vec!["cidr_block".into()]
            },
            replace_because: if action == Action::Replace {
                vec!["cidr_block".into()]
            } else {
                vec![]
            },
            reason: None,
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        let stacks = ["network", "identity"]
            .iter()
            .map(|s| {
                (
                    s.to_string(),
                    Basis {
                        lineage: None,
                        serial: None,
                    },
                )
            })
            .collect();
        Plan {
            format_version: FORMAT_VERSION,
            environment: "dev".into(),
            created: "2026-11-26T00:00:00Z".into(),
            config_digest: "d".into(),
            destroy: false,
            stacks,
            summary: Plan::summarize(&changes, &[], &[]),
            moved: vec![],
            resource_changes: changes,
            drift: vec![],
            kept: vec![],
            duplicates: vec![],
            copies: vec![],
        }
    }

    #[test]
    fn text_shows_symbols_reasons_and_summary() {
        let p = plan(vec![
            change("network.vpc.a", "network", Action::Create),
            change("network.vpc.b", "network", Action::Replace),
            change("identity.vpc.c", "identity", Action::Delete),
        ]);
        insta::assert_snapshot!(text(&p, false));
    }

    #[test]
    fn moves_are_listed_counted_and_alone_are_a_change() {
        let mut p = plan(vec![change("network.vpc.main", "network", Action::Update)]);
        p.moved = vec![super::super::Move {
            from: "network.vpc.old".into(),
            to: "network.vpc.main".into(),
        }];
        p.summary = Plan::summarize(&p.resource_changes, &[], &p.moved);
        let out = text(&p, false);
        assert!(
            out.contains("  network.vpc.old has moved to network.vpc.main\n"),
            "{out}"
        );
        assert!(out.contains("~ network.vpc.main"), "{out}");
        assert!(
            out.contains("0 to add, 1 to change, 0 to replace, 0 to destroy, 1 moved."),
            "{out}"
        );
        let md = markdown(&p);
        assert!(
            md.contains("- `network.vpc.old` has moved to `network.vpc.main`"),
            "{md}"
        );
        p.resource_changes.clear();
        assert!(p.has_changes());
        assert!(!text(&p, false).contains("No changes."));
    }

    #[test]
    fn markdown_puts_destructive_changes_first_and_stays_under_the_limit() {
        let small = markdown(&plan(vec![
            change("network.vpc.a", "network", Action::Create),
            change("network.vpc.b", "network", Action::Replace),
        ]));
        let table = small
            .find("| network | 1 | 0 | 1 | 0 |")
            .expect("summary row");
        let warning = small
            .find("Destructive changes")
            .expect("destructive section");
        assert!(table < warning && small.contains("<details>"), "{small}");

        let many: Vec<Change> = (0..3000)
            .map(|i| {
                change(
                    &format!("network.vpc.v{i}"),
                    if i % 2 == 0 { "network" } else { "identity" },
                    Action::Update,
                )
            })
            .collect();
        let big = markdown(&plan(many));
        assert!(big.len() <= MARKDOWN_LIMIT, "{}", big.len());
        assert!(big.contains("Truncated"));
    }
}
