//! `landfall validate` and `landfall graph` run as a user runs them: the real binary on fixture projects.

mod common;

use common::{example_copy, repo};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn landfall(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_landfall"))
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("landfall runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn every_shipped_environment_is_valid() {
    let envs = landfall::load::environment_names(&repo());
    assert!(
        envs.len() >= 5,
        "expected the example's environments, found {envs:?}"
    );
    for env in envs {
        let out = landfall(&repo(), &["validate", "--env", &env]);
        assert!(out.status.success(), "{env}: {}", stderr(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with(&format!("Success! Environment `{env}` is valid:")),
            "{stdout}"
        );
    }
}

#[test]
fn sandbox_stamps_the_baseline_into_every_workload_account() {
    let out = landfall(&repo(), &["graph", "--env", "sandbox", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let addresses: Vec<&str> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["address"].as_str().unwrap())
        .collect();
    for account in ["dev", "stg", "prod"] {
        let vpc = format!("sandbox-baseline.module.baseline[\"{account}\"].vpc.this");
        assert!(addresses.contains(&vpc.as_str()), "missing {vpc}");
    }
    // Each workload VPC depends on exactly its own account, not on every account.
    let edges = doc["edges"].as_array().unwrap();
    let vpc_deps: Vec<&str> = edges
        .iter()
        .filter(|e| e["from"] == "sandbox-baseline.module.baseline[\"prod\"].vpc.this")
        .map(|e| e["to"].as_str().unwrap())
        .collect();
    assert_eq!(vpc_deps, ["organization.account.prod"]);
}

#[test]
fn graph_prints_a_dot_digraph() {
    let out = landfall(&repo(), &["graph", "--env", "sandbox", "--format", "dot"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph landfall {"), "{dot}");
    assert!(
        dot.contains(
            "\"organization.account.dev\" -> \"organization.organizational_unit.nonprod\";"
        ),
        "{dot}"
    );
    assert!(dot.trim_end().ends_with('}'));
}

#[test]
fn graph_prints_mermaid() {
    let out = landfall(&repo(), &["graph", "--env", "dev", "--format", "mermaid"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("flowchart RL\n"), "{text}");
    assert!(text.contains(" --> "), "{text}");
}

/// The acceptance checks: each mistake in a copy of the example exits 1 naming file and line.
#[test]
fn toml_syntax_error_names_file_and_line() {
    let tmp = example_copy();
    edit(
        &tmp.path().join("stacks/organization.toml"),
        "[organization.main]",
        "[organization.main\n",
    );
    let out = landfall(tmp.path(), &["validate", "--env", "sandbox"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("invalid TOML"), "{err}");
    assert!(err.contains("--> stacks/organization.toml:"), "{err}");
}

#[test]
fn unknown_reference_names_file_line_and_suggestion() {
    let tmp = example_copy();
    edit(
        &tmp.path().join("stacks/organization.toml"),
        "${organizational_unit.workloads.id}",
        "${organizational_unit.workload.id}",
    );
    let out = landfall(tmp.path(), &["validate", "--env", "sandbox"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("unknown reference `organizational_unit.workload`"),
        "{err}"
    );
    assert!(err.contains("--> stacks/organization.toml:"), "{err}");
    assert!(err.contains("did you mean `workloads`?"), "{err}");
}

#[test]
fn duplicate_account_email_names_both_accounts() {
    let tmp = example_copy();
    edit(
        &tmp.path().join("stacks/organization.toml"),
        "aws+stg@",
        "aws+dev@",
    );
    let out = landfall(tmp.path(), &["validate", "--env", "global"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("duplicate account email"), "{err}");
    assert!(err.contains("organization.account.stg uses it"), "{err}");
    assert!(
        err.contains("organization.account.dev uses it too"),
        "{err}"
    );
}

#[test]
fn cycle_lists_every_reference_in_it() {
    let tmp = example_copy();
    let stack = tmp.path().join("stacks/organization.toml");
    let mut text = std::fs::read_to_string(&stack).unwrap();
    text.push_str("\n[organizational_unit.loop_a]\nname = \"LoopA\"\nparent_id = \"${organizational_unit.loop_b.id}\"\n\n[organizational_unit.loop_b]\nname = \"LoopB\"\nparent_id = \"${organizational_unit.loop_a.id}\"\n");
    std::fs::write(&stack, text).unwrap();
    let out = landfall(tmp.path(), &["validate", "--env", "sandbox"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("dependency cycle: organization.organizational_unit.loop_a -> organization.organizational_unit.loop_b -> organization.organizational_unit.loop_a"),
        "{err}"
    );
    assert_eq!(
        err.matches("--> stacks/organization.toml:").count(),
        2,
        "both references are shown: {err}"
    );
}

#[test]
fn unknown_environment_lists_the_known_ones() {
    let out = landfall(&repo(), &["validate", "--env", "sandbx"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("environment `sandbx` not found"), "{err}");
    assert!(err.contains("did you mean `sandbox`?"), "{err}");
}

#[test]
fn environment_and_stack_names_that_are_paths_are_refused() {
    // Names become state paths (.landfall/state/ENV/STACK.json, S3 keys): `..` would escape them.
    let tmp = example_copy();
    let out = landfall(tmp.path(), &["validate", "--env", "../sandbox"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`../sandbox` is not a valid environment name"),
        "{}",
        stderr(&out)
    );
    let out = landfall(tmp.path(), &["plan", "--env", "sandbox/../dev"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a valid environment name"),
        "{}",
        stderr(&out)
    );

    std::fs::create_dir_all(tmp.path().join("outside")).unwrap();
    std::fs::write(tmp.path().join("outside/escape.toml"), "").unwrap();
    edit(
        &tmp.path().join("environments/dev/env.toml"),
        "stacks = [",
        "stacks = [\"../outside/escape\", ",
    );
    let out = landfall(tmp.path(), &["validate", "--env", "dev"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("`../outside/escape` is not a valid stack name"),
        "{err}"
    );
    assert!(err.contains("environments/dev/env.toml:"), "{err}");
}

#[test]
fn kinds_lists_attributes_and_the_keys_of_nested_blocks() {
    let out = landfall(&repo(), &["kinds", "security_group"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ingress"), "{text}");
    for key in [
        ".protocol",
        ".from_port",
        ".cidr_blocks",
        ".security_group_id",
    ] {
        assert!(text.contains(key), "{key} missing:\n{text}");
    }
    assert!(text.contains("forces replacement"), "{text}");
    let out = landfall(&repo(), &["kinds", "security_grup"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("security_group"), "{}", stderr(&out));
}

#[test]
fn a_stack_file_that_is_not_utf8_is_named_with_its_byte() {
    let tmp = example_copy();
    let path = tmp.path().join("stacks/baseline.toml");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.splice(0..0, b"# ok\nname = \"\xff\xfe\"\n".iter().copied());
    std::fs::write(&path, bytes).unwrap();
    let out = landfall(tmp.path(), &["validate", "--env", "dev"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("stacks/baseline.toml:2:9: not UTF-8 text (byte 13 is 0xff)"),
        "{err}"
    );
}

#[test]
fn a_toml_error_in_env_toml_comes_without_a_false_no_stacks_error() {
    let tmp = example_copy();
    edit(
        &tmp.path().join("environments/dev/env.toml"),
        "stacks = [",
        "stacks = = [",
    );
    let out = landfall(tmp.path(), &["validate", "--env", "dev"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("environments/dev/env.toml:3:"), "{err}");
    assert!(!err.contains("deploys no stacks"), "{err}");
}

#[test]
fn a_plan_file_of_another_format_version_is_refused_before_anything_runs() {
    let tmp = example_copy();
    let file = tmp.path().join("old.plan.json");
    for version in ["0", "2", "\"1\"", "null"] {
        std::fs::write(
            &file,
            format!("{{\"format_version\": {version}, \"environment\": \"dev\"}}"),
        )
        .unwrap();
        let out = landfall(tmp.path(), &["apply", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "old.plan.json has plan format version {version}; this landfall reads format version 1"
            )),
            "{err}"
        );
        assert!(
            err.contains("run `landfall plan --env ENV --out FILE` again"),
            "{err}"
        );
    }
}

#[test]
fn outside_a_project_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = landfall(tmp.path(), &["validate", "--env", "dev"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no landfall.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = landfall(&repo(), &["validate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn validate_json_lists_diagnostics_with_locations() {
    let dir = repo().join("tests/fixtures/invalid/duplicate-email");
    let out = landfall(&dir, &["validate", "--env", "test", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["location"]["file"], "stacks/org.toml");
    assert_eq!(d["location"]["line"], 10);
    assert_eq!(d["location"]["column"], 9);
}

/// Every project under tests/fixtures/invalid/ fails validation with the errors its expect.txt lists
/// (`FILE:LINE:COL: part of the message`), and its full output matches a reviewed snapshot.
#[test]
fn invalid_fixtures_report_expected_errors() {
    let root = repo().join("tests/fixtures/invalid");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let env = std::fs::read_to_string(case.join("env"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "test".into());
        let json = landfall(case, &["validate", "--env", &env, "--format", "json"]);
        if json.status.code() != Some(1) {
            failures.push(format!(
                "{name}: exit {:?}, expected 1\n{}",
                json.status.code(),
                stderr(&json)
            ));
            continue;
        }
        let doc: serde_json::Value = serde_json::from_slice(&json.stdout)
            .unwrap_or_else(|e| panic!("{name}: bad JSON: {e}"));
        let found: Vec<(String, String)> = doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let loc = &d["location"];
                let at = if loc.is_null() {
                    String::new()
                } else {
                    format!(
                        "{}:{}:{}",
                        loc["file"].as_str().unwrap(),
                        loc["line"],
                        loc["column"]
                    )
                };
                (at, d["message"].as_str().unwrap().to_string())
            })
            .collect();
        let expect = std::fs::read_to_string(case.join("expect.txt"))
            .unwrap_or_else(|_| panic!("{name}: no expect.txt"));
        let mut expected = 0;
        for line in expect
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            expected += 1;
            let (at, message) = split_expectation(line);
            if !found.iter().any(|(a, m)| a == at && m.contains(message)) {
                failures.push(format!("{name}: expected `{line}`, found {found:#?}"));
            }
        }
        if expected == 0 {
            failures.push(format!("{name}: expect.txt lists no error"));
        }
        let text = landfall(case, &["validate", "--env", &env]);
        insta::assert_snapshot!(format!("invalid__{name}"), stderr(&text));
    }
    assert!(
        cases.len() >= 30,
        "expected at least 30 invalid fixtures, found {}",
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `stacks/a.toml:3:9: message` -> (`stacks/a.toml:3:9`, `message`).
fn split_expectation(line: &str) -> (&str, &str) {
    let mut colons = line.match_indices(':').map(|(i, _)| i);
    let third = colons
        .nth(2)
        .unwrap_or_else(|| panic!("bad expectation line: {line}"));
    (&line[..third], line[third + 1..].trim())
}
