//! `landfall completions`: the scripts parse, and completing `--env`/`--stack` offers the names of the
//! project in the current folder (read at completion time by `landfall __complete`).

mod common;

use common::repo;
use std::path::Path;
use std::process::{Command, Output};

fn landfall(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_landfall"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("landfall runs")
}

fn script(shell: &str) -> String {
    let out = landfall(&repo(), &["completions", shell]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the bash completion function for the words `line` (the last one being completed) in `dir`, with
/// the built landfall first on PATH, and returns what it offers.
fn complete_in_bash(dir: &Path, line: &[&str]) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("landfall.bash");
    std::fs::write(&file, script("bash")).unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_landfall")).parent().unwrap();
    let words = line
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let session = format!(
        "source '{}'\nCOMP_WORDS=({words})\nCOMP_CWORD={}\nCOMP_LINE='{}'\nCOMP_POINT=${{#COMP_LINE}}\n_landfall_names landfall '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        file.display(),
        line.len() - 1,
        line.join(" "),
        line[line.len() - 1],
        line[line.len() - 2],
    );
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(session)
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_bash_script_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("landfall.bash");
    std::fs::write(&file, script("bash")).unwrap();
    let out = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn completing_env_offers_the_project_s_environments() {
    let offered = complete_in_bash(&repo(), &["landfall", "plan", "--env", ""]);
    assert_eq!(offered, ["dev", "global", "prod", "sandbox", "stg"]);
    let offered = complete_in_bash(&repo(), &["landfall", "validate", "-e", "s"]);
    assert_eq!(offered, ["sandbox", "stg"]);
    // From a folder below the root too, as every command works.
    let offered = complete_in_bash(&repo().join("stacks"), &["landfall", "plan", "--env", "p"]);
    assert_eq!(offered, ["prod"]);
}

#[test]
fn completing_stack_offers_the_project_s_stacks() {
    let offered = complete_in_bash(
        &repo(),
        &["landfall", "plan", "--env", "dev", "--stack", "i"],
    );
    assert_eq!(offered, ["identity", "identity-center"]);
}

#[test]
fn subcommands_are_still_completed_by_clap() {
    let offered = complete_in_bash(&repo(), &["landfall", "val"]);
    assert_eq!(offered, ["validate"]);
}

#[test]
fn outside_a_project_nothing_is_offered_and_nothing_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = landfall(tmp.path(), &["__complete", "environments"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn zsh_and_fish_scripts_ask_landfall_for_names() {
    let zsh = script("zsh");
    assert!(zsh.contains(":ENV:_landfall_environments"), "{zsh}");
    assert!(zsh.contains("landfall __complete environments"), "{zsh}");
    let fish = script("fish");
    assert!(
        fish.contains("-l env -f -a '(landfall __complete environments"),
        "{fish}"
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = landfall(&repo(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}
