//! `landfall schema`: the JSON Schemas editors use. Every shipped configuration file validates against
//! them (converted from TOML to JSON, as taplo does), and a mistake fails naming the attribute.

mod common;

use common::repo;
use landfall::schema::json_schema::{FileType, schema};
use std::path::{Path, PathBuf};

fn validator(file: FileType) -> jsonschema::Validator {
    jsonschema::draft7::new(&schema(file)).expect("the generated schema is a valid draft-07 schema")
}

fn toml_to_json(text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(text).expect("shipped files are valid TOML");
    serde_json::to_value(value).unwrap()
}

/// The problems found in `text`, as `path: message` lines.
fn problems(file: FileType, text: &str) -> Vec<String> {
    let v = validator(file);
    let json = toml_to_json(text);
    v.iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// The configuration files of the project at `root`, each with its file type.
fn project_files(root: &Path) -> Vec<(FileType, PathBuf)> {
    let mut out = vec![(FileType::Project, root.join("landfall.toml"))];
    for (dir, ty) in [
        ("environments", FileType::Environment),
        ("stacks", FileType::Stack),
        ("modules", FileType::Module),
    ] {
        let mut files = Vec::new();
        toml_files(&root.join(dir), &mut files);
        out.extend(files.into_iter().map(|f| (ty, f)));
    }
    out
}

/// The example landing zone (what the quick start deploys) and every valid test fixture project.
fn shipped_projects() -> Vec<PathBuf> {
    let mut roots = vec![repo()];
    for entry in std::fs::read_dir(repo().join("tests/fixtures"))
        .unwrap()
        .flatten()
    {
        let p = entry.path();
        if p.join("landfall.toml").is_file() {
            roots.push(p);
        }
    }
    roots
}

#[test]
fn every_shipped_configuration_file_validates() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for root in shipped_projects() {
        for (ty, path) in project_files(&root) {
            let text = std::fs::read_to_string(&path).unwrap();
            checked += 1;
            for p in problems(ty, &text) {
                failures.push(format!("{}: {p}", path.display()));
            }
        }
    }
    assert!(checked > 30, "only {checked} files found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_attribute_of_another_kind_fails() {
    // `name` is an attribute of security groups, not of VPCs: the `vpc` key picks the attribute set.
    let found = problems(
        FileType::Stack,
        "[vpc.main]\ncidr_block = \"10.0.0.0/16\"\nname = \"main\"\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("/vpc/main:"), "{found:?}");
    assert!(found[0].contains("name"), "{found:?}");
}

#[test]
fn a_wrong_type_and_an_out_of_range_number_fail_naming_the_attribute() {
    let found = problems(
        FileType::Stack,
        "[vpc.main]\ncidr_block = \"10.0.0.0/16\"\nenable_dns_support = \"yes\"\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("/vpc/main/enable_dns_support:"),
        "{found:?}"
    );

    let found = problems(
        FileType::Stack,
        "[iam_password_policy.main]\nminimum_password_length = 4\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("/iam_password_policy/main/minimum_password_length:"),
        "{found:?}"
    );

    let found = problems(
        FileType::Stack,
        "[iam_role.r]\nname = \"has space\"\nassume_role_policy = \"{}\"\n",
    );
    assert!(
        found.iter().any(|f| f.starts_with("/iam_role/r/name:")),
        "{found:?}"
    );
}

#[test]
fn expressions_are_left_to_validate() {
    let found = problems(
        FileType::Stack,
        "[iam_password_policy.main]\nminimum_password_length = \"${var.length}\"\n",
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn missing_required_attributes_unknown_kinds_and_env_keys_fail() {
    assert!(!problems(FileType::Stack, "[vpc.main]\n").is_empty());
    assert!(
        !problems(
            FileType::Stack,
            "[vpcs.main]\ncidr_block = \"10.0.0.0/16\"\n"
        )
        .is_empty()
    );
    assert!(
        !problems(
            FileType::Environment,
            "stacks = [\"a\"]\nregion = \"eu-west-9\"\n"
        )
        .is_empty()
    );
    assert!(!problems(FileType::Project, "[project]\nname = \"x\"\n").is_empty());
    assert!(!problems(FileType::Module, "[input.x]\ntype = \"strin\"\n").is_empty());
}

#[test]
fn the_cli_prints_one_schema_or_writes_all() {
    let bin = env!("CARGO_BIN_EXE_landfall");
    let out = std::process::Command::new(bin)
        .args(["schema", "--file", "env"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc, schema(FileType::Environment));

    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(bin)
        .args(["schema", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    for name in ["project", "env", "stack", "module"] {
        assert!(
            dir.path().join(format!("{name}.schema.json")).is_file(),
            "{name}"
        );
    }
    let out = std::process::Command::new(bin)
        .args(["schema", "--file", "stacks"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}
