//! `landfall show PLANFILE` (issue 12, item 8): a saved plan rendered again as text, Markdown (in
//! comment-sized parts) or JSON, with no project or credentials; colour decided for stdout itself; a
//! reader that goes away ends the command quietly.

use landfall::plan::{Action, Basis, Change, FORMAT_VERSION, Plan, render};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A plan of `n` VPC updates in one stack, saved to `dir/plan.json`.
fn saved_plan(dir: &Path, n: usize) -> std::path::PathBuf {
    let changes: Vec<Change> = (0..n)
        .map(|i| Change {
            address: format!("network.vpc.v{i}"),
            kind: "vpc".into(),
            stack: "network".into(),
            account: Some("111111111111".into()),
            region: Some("eu-west-1".into()),
            action: Action::Update,
            id: Some(format!("vpc-{i}")),
            before: Some(serde_json::json!({"tags": {"team": "core"}})),
            after: Some(serde_json::json!({"tags": {"team": "platform"}})),
            changed: vec!["tags".into()],
            replace_because: vec![],
            reason: None,
        })
        .collect();
    let plan = Plan {
        format_version: FORMAT_VERSION,
        environment: "dev".into(),
        created: "2026-11-27T00:00:00Z".into(),
        config_digest: "d".into(),
        destroy: false,
        derived_from: None,
        stacks: [(
            "network".to_string(),
            Basis {
                lineage: None,
                serial: None,
                config: None,
            },
        )]
        .into_iter()
        .collect(),
        summary: Plan::summarize(&changes, &[], &[]),
        moved: vec![],
        resource_changes: changes,
        drift: vec![],
        kept: vec![],
        duplicates: vec![],
        copies: vec![],
        names: [("111111111111".to_string(), "account dev".to_string())]
            .into_iter()
            .collect(),
    };
    let path = dir.join("plan.json");
    std::fs::write(&path, plan.to_json()).unwrap();
    path
}

fn show(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_landfall"))
        .arg("show")
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_saved_plan_renders_as_text_json_and_markdown_parts_without_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let file = saved_plan(dir.path(), 3);
    let f = file.to_str().unwrap();
    let text = show(&[f]);
    assert_eq!(text.status.code(), Some(0), "{text:?}");
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.contains("stack network — account dev (111111111111), eu-west-1"),
        "{out}"
    );
    assert!(out.contains("~ team = \"core\" -> \"platform\""), "{out}");
    assert!(
        !out.contains('\x1b'),
        "a pipe gets no colour by default: {out}"
    );
    let coloured = show(&["--color", "always", f]);
    assert!(String::from_utf8_lossy(&coloured.stdout).contains('\x1b'));

    let json = show(&[f, "--format", "json"]);
    assert_eq!(json.stdout, std::fs::read(&file).unwrap());

    let parts = dir.path().join("comment");
    let md = show(&[
        f,
        "--format",
        "markdown",
        "--parts-dir",
        parts.to_str().unwrap(),
    ]);
    assert_eq!(md.status.code(), Some(0), "{md:?}");
    let first = std::fs::read_to_string(parts.join("plan-1.md")).unwrap();
    assert!(first.starts_with("### landfall plan: `dev`"), "{first}");

    let usage = show(&[f, "--parts-dir", parts.to_str().unwrap()]);
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
    let missing = show(&[dir.path().join("nope.json").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("landfall plan --env ENV --out FILE")
    );
}

#[test]
fn a_large_plan_comes_in_parts_each_under_the_limit_with_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let file = saved_plan(dir.path(), 1500);
    let parts = dir.path().join("comment");
    let out = show(&[
        file.to_str().unwrap(),
        "--format",
        "markdown",
        "--parts-dir",
        parts.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut all = String::new();
    let mut n = 0;
    while let Ok(part) = std::fs::read_to_string(parts.join(format!("plan-{}.md", n + 1))) {
        assert!(
            part.len() <= render::MARKDOWN_LIMIT,
            "part {} is {}",
            n + 1,
            part.len()
        );
        all.push_str(&part);
        n += 1;
    }
    assert!(n > 1, "{n} parts");
    for i in 0..1500 {
        assert!(all.contains(&format!("network.vpc.v{i} (")), "v{i} missing");
    }
}

#[test]
fn a_reader_that_goes_away_ends_show_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // Far more than a pipe buffer, so landfall is still writing when the reader leaves.
    let file = saved_plan(dir.path(), 5000);
    let script = format!(
        "{} show {} | head -c 100 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_landfall"),
        file.display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Ended by SIGPIPE (128 + 13) like other tools, or done before the reader left: never a panic.
    assert!(
        stdout.contains("status=141") || stdout.contains("status=0"),
        "{stdout}{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
}
