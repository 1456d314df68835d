//! Running the real `landfall` binary against an emulator (or a fault proxy in front of it).

use super::moto::Moto;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `landfall -C dir ARGS` with the emulator's environment, talking to `endpoint` (the emulator's own,
/// or a fault proxy's). No terminal on stdin, no colour.
pub fn command(dir: &Path, endpoint: &str, moto: &Moto, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_landfall"));
    cmd.arg("-C").arg(dir).args(args);
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    cmd.env("AWS_ENDPOINT_URL", endpoint).env("NO_COLOR", "1");
    cmd.stdin(Stdio::null());
    cmd
}

pub fn landfall_via(dir: &Path, endpoint: &str, moto: &Moto, args: &[&str]) -> Output {
    command(dir, endpoint, moto, args)
        .output()
        .expect("run landfall")
}

pub fn landfall(dir: &Path, moto: &Moto, args: &[&str]) -> Output {
    landfall_via(dir, &moto.endpoint, moto, args)
}

/// Both output streams, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
pub fn expect_code(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", text(out));
}

/// Polls until `f` holds; fails the test when `timeout` passes first.
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The lock id in a lock error message (the last word of its `landfall force-unlock` line).
pub fn lock_id(stderr: &str) -> Option<String> {
    let line = stderr
        .lines()
        .find(|l| l.contains("landfall force-unlock"))?;
    Some(line.split_whitespace().last()?.to_string())
}

/// How many requests of `operation` (`CreateAccount`, or `total`) an `--stats` run reports on stderr
/// (0 when the operation is not listed).
pub fn requests(out: &Output, operation: &str) -> u64 {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let suffix = format!(".{operation}");
    stderr
        .lines()
        .filter_map(|l| {
            // The count is the last word; service names may hold spaces (`S3 Control.GetPublicAccessBlock`).
            let mut words = l.split_whitespace().rev();
            let (n, name) = (words.next()?, words.next()?);
            (name.ends_with(&suffix) || name == operation).then(|| n.parse::<u64>().ok())?
        })
        .sum()
}
