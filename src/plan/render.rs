//! Plans for people: terminal text (`+ ~ - -/+`, colour optional) and Markdown for merge-request comments.

use super::docdiff::{self, Line, Sign};
use super::names;
use super::{Action, Change, Drift, Plan, Summary};
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
    docdiff::scalar(v)
}

/// The attribute lines of a change: every configured value for a create, what changes otherwise
/// (documents, maps and rule sets structurally, see [`docdiff`]).
fn attr_lines(c: &Change) -> Vec<Line> {
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
                .map(|(k, v)| Line::new(Sign::Attr, format!("+ {k:<width$} = {}", value(v))))
                .collect()
        }
        Action::Update | Action::Replace => {
            let width = c.changed.iter().map(String::len).max().unwrap_or(0);
            let mut lines: Vec<Line> = c
                .changed
                .iter()
                .flat_map(|k| {
                    let forces = if c.replace_because.contains(k) {
                        " (forces replacement)"
                    } else {
                        ""
                    };
                    docdiff::attribute(k, width, before.get(k), after.get(k), forces)
                })
                .collect();
            for k in &c.replace_because {
                if !c.changed.contains(k) {
                    lines.push(Line::new(
                        Sign::Attr,
                        format!("~ {k} changes (forces replacement)"),
                    ));
                }
            }
            lines
        }
        Action::Delete | Action::Forget | Action::Import => Vec::new(),
    }
}

/// An attribute line for the terminal: nested lines of a structural diff indented under their attribute.
fn text_line(line: &Line, names: &IndexMap<String, String>) -> String {
    let text = match line.sign {
        Sign::Attr => line.text.clone(),
        _ => format!("    {}", line.signed()),
    };
    names::annotate(&text, names)
}

/// An attribute line inside a Markdown diff block: lines a document gains or loses carry their own
/// `+`/`-` in the first column (so they are coloured), everything else the change's sign. A code fence
/// in a value must not end the block.
fn markdown_line(sign: &str, line: &Line, names: &IndexMap<String, String>) -> String {
    let text = names::annotate(&line.text.replace("```", "'''"), names);
    match line.sign {
        Sign::Attr => format!("{sign}     {text}"),
        Sign::Added => format!("+         {text}"),
        Sign::Removed => format!("-         {text}"),
        Sign::Changed => format!("{sign}         ~ {text}"),
        Sign::Context => format!("{sign}         {text}"),
    }
}

fn drift_lines(d: &Drift, names: &IndexMap<String, String>) -> Vec<String> {
    if d.deleted {
        return vec!["deleted outside landfall".into()];
    }
    d.attributes
        .iter()
        .flat_map(|a| docdiff::attribute(&a.name, 0, Some(&a.state), Some(&a.live), ""))
        .map(|l| text_line(&l, names))
        .collect()
}

/// Where a change lands: account (name and id) and region.
fn where_(c: &Change, plan: &Plan) -> String {
    names::location(c.account.as_deref(), c.region.as_deref(), &plan.names)
}

/// Where all of a stack's changes land, when that is one place (the usual case): said once, in the
/// stack's heading, instead of on every change.
fn common_location(plan: &Plan, changes: &[&Change]) -> Option<String> {
    let first = where_(changes.first()?, plan);
    changes
        .iter()
        .all(|c| where_(c, plan) == first)
        .then_some(first)
}

/// The ` in <location>` suffix of a change line, unless its stack heading says it.
fn where_suffix(c: &Change, plan: &Plan, common: &Option<String>) -> String {
    match common {
        Some(_) => String::new(),
        None => format!(" in {}", where_(c, plan)),
    }
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
    let mut bytes = Vec::new();
    write_text(&mut bytes, plan, color).expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the plan text is UTF-8")
}

/// Writes the plan for a terminal to `w` as it is rendered, one resource at a time (at 26,000
/// resources the whole text is 159,000 lines).
pub fn write_text(w: &mut impl std::io::Write, plan: &Plan, color: bool) -> std::io::Result<()> {
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
            for line in drift_lines(d, &plan.names) {
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
        return w.write_all(out.as_bytes());
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
        let common = common_location(plan, &changes);
        let heading = match &common {
            Some(place) => format!("stack {stack} — {place}"),
            None => format!("stack {stack}"),
        };
        let _ = writeln!(out, "\n{}", p.bold(&heading));
        for c in changes {
            let _ = writeln!(
                out,
                "  {} {} ({}){}",
                p.action(c.action, c.action.symbol()),
                p.bold(&c.address),
                describe_action(c),
                where_suffix(c, plan, &common)
            );
            for line in attr_lines(c) {
                let _ = writeln!(out, "      {}", text_line(&line, &plan.names));
            }
            w.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    let _ = writeln!(out, "\n{} {}", p.bold("Plan:"), summary_line(&plan.summary));
    w.write_all(out.as_bytes())
}

/// The plan as one merge-request comment. A plan whose comment would be longer than
/// [`MARKDOWN_LIMIT`] characters prints its parts (see [`markdown_parts`]) one after the other,
/// each starting with its `part i of n` heading; post them as separate comments.
pub fn markdown(plan: &Plan) -> String {
    markdown_parts(plan).join("\n")
}

/// The plan as merge-request comments, each under [`MARKDOWN_LIMIT`] characters, never dropping a
/// stack: the first part holds the summary (table by stack, destructive changes first, moves, drift
/// with values), then a collapsible section per stack; sections that do not fit go to further parts,
/// and a stack section larger than a part is cut between lines, its diff block closed and reopened.
pub fn markdown_parts(plan: &Plan) -> Vec<String> {
    let head = markdown_head(plan);
    let sections = by_stack(plan)
        .into_iter()
        .flat_map(|(stack, changes)| stack_section(plan, stack, &changes))
        .collect::<Vec<_>>();
    let mut parts = vec![head];
    for s in sections {
        let last = parts.last_mut().expect("one part at least");
        if last.len() + s.len() + PART_HEADING_ROOM <= MARKDOWN_LIMIT {
            last.push_str(&s);
        } else {
            parts.push(s);
        }
    }
    let n = parts.len();
    if n == 1 {
        return parts;
    }
    parts
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let heading = if i == 0 {
                format!(
                    "> Part 1 of {n}: the plan continues in the next {} comments.\n\n",
                    n - 1
                )
            } else {
                format!(
                    "### landfall plan: `{}` (part {} of {n})\n",
                    plan.environment,
                    i + 1
                )
            };
            if i == 0 {
                // The first part keeps its title line first.
                match body.split_once('\n') {
                    Some((title, rest)) => format!("{title}\n{heading}{rest}"),
                    None => format!("{heading}{body}"),
                }
            } else {
                format!("{heading}{body}")
            }
        })
        .collect()
}

/// Room kept in every part for its `part i of n` heading.
const PART_HEADING_ROOM: usize = 200;

/// The summary: title, counts, a table by stack, destructive changes, moves, drift with values.
fn markdown_head(plan: &Plan) -> String {
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
            let _ = writeln!(
                head,
                "- `{}`: {} (in {})",
                c.address,
                describe_action(c),
                where_(c, plan)
            );
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
            if d.deleted {
                let _ = writeln!(head, "- `{}`: deleted", d.address);
                continue;
            }
            let _ = writeln!(head, "- `{}`:\n  ```diff", d.address);
            for line in drift_lines(d, &plan.names) {
                let _ = writeln!(head, "  {}", line.replace("```", "'''"));
            }
            let _ = writeln!(head, "  ```");
        }
    }
    // Longer than a part by itself (thousands of destructive changes): cut, saying so.
    clamp(head)
}

/// A stack's changes as collapsible diff blocks, destructive changes first; one block, or several
/// when the stack alone would not fit a part.
fn stack_section(plan: &Plan, stack: &str, changes: &[&Change]) -> Vec<String> {
    let common = common_location(plan, changes);
    let mut ordered: Vec<&&Change> = changes.iter().collect();
    ordered.sort_by_key(|c| !c.action.is_destructive());
    let mut lines = Vec::new();
    for c in ordered {
        let sign = match c.action {
            Action::Create => "+",
            Action::Delete | Action::Replace | Action::Forget => "-",
            Action::Update | Action::Import => "!",
        };
        lines.push(format!(
            "{sign} {} ({}){}",
            c.address,
            describe_action(c),
            where_suffix(c, plan, &common)
        ));
        lines.extend(
            attr_lines(c)
                .iter()
                .map(|l| markdown_line(sign, l, &plan.names)),
        );
    }
    let count = changes.len();
    let plural = if count == 1 { "" } else { "s" };
    let place = common.map(|p| format!(" in {p}")).unwrap_or_default();
    let room = MARKDOWN_LIMIT - PART_HEADING_ROOM - 200;
    let mut blocks: Vec<String> = Vec::new();
    let mut body = String::new();
    for line in lines {
        let line = cut_line(line, room);
        if !body.is_empty() && body.len() + line.len() + 1 > room {
            blocks.push(std::mem::take(&mut body));
        }
        body.push_str(&line);
        body.push('\n');
    }
    blocks.push(body);
    let n = blocks.len();
    blocks
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let cont = if n > 1 {
                format!(" (block {} of {n})", i + 1)
            } else {
                String::new()
            };
            format!(
                "\n<details><summary>stack <code>{stack}</code>: {count} change{plural}{place}{cont}</summary>\n\n```diff\n{body}```\n</details>\n"
            )
        })
        .collect()
}

/// A single line longer than a part (a huge attribute value) is cut, saying so.
fn cut_line(mut line: String, room: usize) -> String {
    if line.len() <= room {
        return line;
    }
    let mut cut = room - 40;
    while !line.is_char_boundary(cut) {
        cut -= 1;
    }
    line.truncate(cut);
    line.push_str(" ... (cut; see the plan artifact)");
    line
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
                        config: None,
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
            derived_from: None,
            stacks,
            summary: Plan::summarize(&changes, &[], &[]),
            moved: vec![],
            resource_changes: changes,
            drift: vec![],
            kept: vec![],
            duplicates: vec![],
            copies: vec![],
            names: IndexMap::new(),
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
        let big = plan(many);
        let parts = markdown_parts(&big);
        assert!(parts.len() > 2, "{} parts", parts.len());
        for (i, part) in parts.iter().enumerate() {
            assert!(part.len() <= MARKDOWN_LIMIT, "part {i}: {}", part.len());
            assert_eq!(
                part.matches("```diff").count(),
                part.matches("\n```\n").count()
            );
        }
        assert!(
            parts[0].starts_with("### landfall plan: `dev`\n> Part 1 of "),
            "{}",
            &parts[0][..200]
        );
        assert!(
            parts[1].starts_with("### landfall plan: `dev` (part 2 of "),
            "{}",
            &parts[1][..200]
        );
        let all = parts.concat();
        for i in 0..3000 {
            assert!(
                all.contains(&format!("! network.vpc.v{i} (")),
                "v{i} missing"
            );
        }
        assert_eq!(markdown(&big), parts.join("\n"));
    }

    #[test]
    fn policy_changes_and_drift_show_what_changed_in_text_and_markdown() {
        let doc = |action: &str| {
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "NoLeaving", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"},
                {"Sid": "Regions", "Effect": "Deny", "Action": action, "Resource": "*"}]})
            .to_string()
        };
        let mut c = change("org.scp.guard", "network", Action::Update);
        c.kind = "organizations_policy".into();
        c.before = Some(json!({"content": doc("ec2:*"), "tags": {"team": "core"}}));
        c.after = Some(json!({"content": doc("s3:*"), "tags": {"team": "platform"}}));
        c.changed = vec!["content".into(), "tags".into()];
        let mut p = plan(vec![c]);
        p.drift = vec![Drift {
            address: "network.vpc.a".into(),
            kind: "vpc".into(),
            stack: "network".into(),
            id: "vpc-1".into(),
            deleted: false,
            attributes: vec![crate::plan::AttrDrift {
                name: "tags".into(),
                state: json!({"env": "dev"}),
                live: json!({"env": "prod"}),
            }],
        }];
        let text = text(&p, false);
        assert!(text.contains("      ~ content:\n"), "{text}");
        let removed =
            "          -       \"Action\": \"ec2:*\",\n          +       \"Action\": \"s3:*\",\n";
        assert!(text.contains(removed), "{text}");
        assert!(text.contains("~ team = \"core\" -> \"platform\""), "{text}");
        assert!(text.contains("~ env = \"dev\" -> \"prod\""), "{text}");
        let md = markdown(&p);
        let pad = " ".repeat(15);
        assert!(
            md.contains(&format!(
                "\n-{pad}\"Action\": \"ec2:*\",\n+{pad}\"Action\": \"s3:*\",\n"
            )),
            "{md}"
        );
        assert!(
            md.contains(
                "- `network.vpc.a`:\n  ```diff\n  ~ tags:\n      ~ env = \"dev\" -> \"prod\"\n  ```"
            ),
            "{md}"
        );
    }
}
