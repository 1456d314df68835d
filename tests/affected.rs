//! `landfall affected --base REF` along a scripted git history of the example landing zone: each
//! commit is compared with the one before, and exactly the environments × stacks its change lands in
//! are listed — whatever file the change was made in, and none for comments or reformatting.

mod common;

use common::git::git;

use std::path::Path;
use std::process::{Command, Output};

fn text(out: &Output) -> String {
    common::cli::text(out)
}

/// `landfall affected` run offline (no emulator, no credentials: it must not need them).
fn affected(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_landfall"))
        .arg("-C")
        .arg(dir)
        .arg("affected")
        .args(args)
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .expect("run landfall")
}

/// The (environment, stack) pairs `affected --base REF --format json` lists.
fn pairs(dir: &Path, base: &str) -> Vec<(String, String)> {
    let out = affected(dir, &["--base", base, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|a| {
            assert!(a["reason"].as_str().is_some_and(|r| !r.is_empty()), "{a}");
            (
                a["environment"].as_str().unwrap().to_string(),
                a["stack"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A git repository holding the example landing zone, one commit.
fn repository() -> tempfile::TempDir {
    let dir = common::example_copy();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "landing zone"]);
    dir
}

/// Rewrites a file of the repository (each `from` must occur) and commits it.
fn commit_edit(d: &Path, file: &str, edits: &[(&str, &str)]) {
    let path = d.join(file);
    let mut content = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert!(content.contains(from), "`{from}` is not in {file}");
        content = content.replace(from, to);
    }
    std::fs::write(&path, content).unwrap();
    git(d, &["commit", "-q", "-a", "-m", file]);
}

fn expect(list: Vec<(String, String)>, expected: &[(&str, &str)]) {
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(e, s)| (e.to_string(), s.to_string()))
        .collect();
    assert_eq!(list, expected);
}

#[test]
fn affected_lists_exactly_where_each_change_lands() {
    let dir = repository();
    let d = dir.path();

    // A module edit lands in every environment that instantiates the module.
    commit_edit(
        d,
        "modules/baseline/network.toml",
        &[(
            "enable_dns_hostnames = true",
            "enable_dns_hostnames = false",
        )],
    );
    expect(
        pairs(d, "HEAD~1"),
        &[
            ("dev", "baseline"),
            ("prod", "baseline"),
            ("sandbox", "sandbox-baseline"),
            ("stg", "baseline"),
        ],
    );

    // A shared variable lands where it is read: the region SCP of both organizations, and the
    // guardrails set in every allowed region (EBS encryption by default).
    commit_edit(
        d,
        "environments/common.toml",
        &[(
            r#"allowed_regions = ["eu-west-1", "eu-central-1"]"#,
            r#"allowed_regions = ["eu-west-1", "eu-central-1", "eu-north-1"]"#,
        )],
    );
    expect(
        pairs(d, "HEAD~1"),
        &[
            ("global", "guardrails"),
            ("global", "organization"),
            ("sandbox", "guardrails"),
            ("sandbox", "organization"),
        ],
    );

    // A policy file read with file() lands in the stacks whose policies read it.
    commit_edit(
        d,
        "policies/deny-leaving.json",
        &[(
            r#""Action": "organizations:LeaveOrganization","#,
            r#""Action": ["organizations:LeaveOrganization", "account:CloseAccount"],"#,
        )],
    );
    expect(
        pairs(d, "HEAD~1"),
        &[("global", "organization"), ("sandbox", "organization")],
    );

    // Comments count nowhere.
    commit_edit(
        d,
        "modules/baseline/network.toml",
        &[("[vpc.this]\n", "[vpc.this]\n# Reviewed 2026-11.\n")],
    );
    commit_edit(
        d,
        "environments/common.toml",
        &[("[vars]\n", "[vars]\n# Keep in sync with the SCP.\n")],
    );
    expect(pairs(d, "HEAD~2"), &[]);

    // Neither does reformatting: TOML spacing and tables, a policy file's JSON layout.
    commit_edit(
        d,
        "modules/baseline/network.toml",
        &[(
            "tags = { Name = \"${input.name}\" }",
            "tags   =   {Name=\"${input.name}\"}",
        )],
    );
    let policy = d.join("policies/deny-root.json");
    let compact: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&policy).unwrap()).unwrap();
    std::fs::write(&policy, compact.to_string()).unwrap();
    git(d, &["commit", "-q", "-a", "-m", "reformat"]);
    expect(pairs(d, "HEAD~2"), &[]);
    let out = affected(d, &["--base", "HEAD~2"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No environment or stack is affected"),
        "{}",
        text(&out)
    );

    // A new environment is affected as a whole; uncommitted changes in the working tree count.
    std::fs::create_dir_all(d.join("environments/qa")).unwrap();
    std::fs::write(
        d.join("environments/qa/env.toml"),
        "include = [\"../workloads.toml\"]\nstacks = [\"baseline\"]\n\n[vars]\naccount = \"stg\"\nvpc_cidr = \"10.40.0.0/16\"\n",
    )
    .unwrap();
    expect(pairs(d, "HEAD"), &[("qa", "baseline")]);
    let out = affected(d, &["--base", "HEAD"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("environment added"),
        "{}",
        text(&out)
    );

    // A removed stack is affected too (its resources would be destroyed).
    std::fs::remove_dir_all(d.join("environments/qa")).unwrap();
    commit_edit(d, "environments/sandbox/env.toml", &[(r#", "dns"]"#, "]")]);
    let out = affected(d, &["--base", "HEAD~1"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("sandbox dns  stack removed"),
        "{}",
        text(&out)
    );
}

#[test]
fn affected_says_what_it_could_not_compare() {
    let dir = repository();
    let d = dir.path();

    let out = affected(d, &["--base", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`no-such-branch` is not a commit"),
        "{}",
        text(&out)
    );

    // The base side is invalid: the error says which side, and where.
    commit_edit(
        d,
        "modules/baseline/network.toml",
        &[(
            "cidr_block = \"${input.cidr}\"",
            "cidr_block = \"${input.cidrr}\"",
        )],
    );
    commit_edit(
        d,
        "modules/baseline/network.toml",
        &[(
            "cidr_block = \"${input.cidrr}\"",
            "cidr_block = \"${input.cidr}\"",
        )],
    );
    let out = affected(d, &["--base", "HEAD~1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not valid") && stderr.contains("at HEAD~1"),
        "{}",
        text(&out)
    );
    assert!(stderr.contains("network.toml"), "{}", text(&out));

    // Not a git repository at all.
    let plain = common::example_copy();
    let out = affected(plain.path(), &["--base", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs a git repository"),
        "{}",
        text(&out)
    );
}
