//! The command layer: usage mistakes exit 2 with a message saying what to do, for every command; and
//! commands are library functions that tests call directly, without the binary.

mod common;

use common::repo;
use landfall::cmd::{self, Ctx, Error, Exit, ValidateFormat};
use std::process::Command;

/// Runs the binary in the example project, with no terminal and no colour.
fn landfall(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_landfall"))
        .arg("-C")
        .arg(repo())
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run landfall")
}

#[test]
fn usage_mistakes_exit_2_with_a_helpful_message_for_every_command() {
    // (arguments, what the message must mention)
    let cases: &[(&[&str], &str)] = &[
        (&["validate"], "--env"),
        (
            &["validate", "--env", "dev", "--format", "yaml"],
            "text, json",
        ),
        (&["graph"], "--env"),
        (&["graph", "--env", "dev", "--format", "png"], "dot"),
        (&["kinds", "vpc", "subnet"], "unexpected argument"),
        (&["init"], "--env"),
        (&["plan"], "--env"),
        (
            &["plan", "--env", "dev", "--allow-account-closure"],
            "--destroy",
        ),
        (
            &["plan", "--env", "dev", "--parallelism", "many"],
            "invalid value",
        ),
        (&["apply"], "apply needs a plan file or --env ENV"),
        (
            &["apply", "plan.json", "--target", "org.account.dev"],
            "a saved plan is applied as it was made",
        ),
        (&["apply", "plan.json", "--refresh=false"], "--refresh"),
        (&["destroy"], "--env"),
        (&["state", "list"], "state commands need --env ENV"),
        (&["state", "--env", "dev", "rm"], "<ADDRESSES>"),
        (&["state", "--env", "dev", "mv", "a.b.c"], "<TO>"),
        (
            &["state", "--env", "dev", "frobnicate"],
            "unrecognized subcommand",
        ),
        (&["output"], "--env"),
        (&["import", "--env", "dev", "org.account.dev"], "<ID>"),
        (&["import-org", "--env", "dev"], "--stack"),
        (&["force-unlock", "--env", "dev"], "<LOCK_ID>"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, mention) in cases {
        let out = landfall(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{stderr}");
        assert!(
            stderr.contains(mention),
            "{args:?}: no `{mention}` in\n{stderr}"
        );
        assert!(
            stderr.contains("Usage") || stderr.contains("help"),
            "{args:?}: says what to do instead\n{stderr}"
        );
    }
}

#[test]
fn validate_is_callable_from_the_library() {
    let ctx = Ctx::find(&repo().join("environments"), false).unwrap();
    assert_eq!(ctx.root, repo());
    let result = cmd::validate(&ctx, "dev", ValidateFormat::Text);
    assert_eq!(result.unwrap(), Exit::Success);
    assert_eq!(
        cmd::graph(&ctx, "dev", landfall::graph::Format::Json).unwrap(),
        Exit::Success
    );
    assert_eq!(cmd::kinds(Some("vpc")).unwrap(), Exit::Success);
}

#[test]
fn library_commands_return_typed_errors() {
    let invalid = repo().join("tests/fixtures/invalid/duplicate-email");
    let ctx = Ctx::find(&invalid, false).unwrap();
    match cmd::validate(&ctx, "test", ValidateFormat::Text) {
        Err(Error::Engine(e)) => match *e {
            landfall::engine::Error::Config(_, diags) => assert!(diags.has_errors()),
            other => panic!("expected configuration errors, got {other}"),
        },
        other => panic!("expected configuration errors, got {other:?}"),
    }
    let ctx = Ctx::find(&repo(), false).unwrap();
    let missing = cmd::validate(&ctx, "nowhere", ValidateFormat::Json).unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("environment `nowhere` not found"),
        "{missing}"
    );
    assert_eq!(missing.exit_code(), 1);
    assert!(matches!(cmd::kinds(Some("vcp")), Err(Error::UnknownKind(k)) if k == "vcp"));

    // Usage mistakes are found before anything is read (no AWS, no state).
    let usage = cmd::apply(&ctx, cmd::ApplyArgs::default()).unwrap_err();
    assert!(matches!(usage, Error::Usage { .. }), "{usage}");
    assert_eq!(usage.exit_code(), 2);
    let narrowed = cmd::apply(
        &ctx,
        cmd::ApplyArgs {
            plan_file: Some("plan.json".into()),
            scoping: cmd::Scoping {
                stacks: vec!["identity".into()],
                ..cmd::Scoping::default()
            },
            ..cmd::ApplyArgs::default()
        },
    )
    .unwrap_err();
    assert_eq!(narrowed.exit_code(), 2, "{narrowed}");
}

#[test]
fn outside_a_project_the_error_says_where_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let e = Ctx::find(tmp.path(), false).unwrap_err();
    assert!(e.to_string().contains("no landfall.toml"), "{e}");
    assert_eq!(e.exit_code(), 1);
}
