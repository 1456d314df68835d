//! git for tests that script a repository's history (`affected`, the pipeline).

use std::path::Path;
use std::process::Command;

/// `git -C dir ARGS` with a fixed author; its trimmed stdout. Fails the test when git fails.
#[track_caller]
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        super::cli::text(&out)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
