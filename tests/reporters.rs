//! One real apply, rendered three ways. The apply (a VPC replaced with everything in it, one subnet
//! refused by the fault proxy, every request slowed) runs with `--format json`; its event lines are
//! then fed to the plain, terminal and JSON reporters, and each output is checked: the same changes,
//! the failure and what it skipped, a heartbeat for the long steps, a replacement counted once.

mod common;

use common::cli::{expect_code, landfall, landfall_via, text};
use common::moto::{FaultProxy, Moto};
use indicatif::{ProgressDrawTarget, TermLike};
use landfall::engine::events::{Event, Operation, Reporter, Summary};
use landfall::report::{Json, Plain, Terminal};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A terminal that keeps what is written to it.
#[derive(Debug, Clone, Default)]
struct Screen(Arc<Mutex<String>>);

impl TermLike for Screen {
    fn width(&self) -> u16 {
        120
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        let mut screen = self.0.lock().unwrap();
        screen.push_str(s);
        screen.push('\n');
        Ok(())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.lock().unwrap().push_str(s);
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

fn set_cidr(dir: &Path, cidr: &str) {
    let path = dir.join("environments/test/env.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("10.0.0.0/16", cidr)).unwrap();
}

/// Creates the network, then applies a new CIDR (every network resource replaced) through a proxy that
/// slows requests and refuses the new private subnet. Returns the JSON lines and the plan's changes.
fn record_apply() -> (String, usize) {
    let moto = Moto::start();
    let dir = common::fixture_copy("tests/fixtures/day2");
    let d = dir.path();
    expect_code(
        &landfall(d, &moto, &["apply", "--env", "test", "--auto-approve"]),
        0,
    );
    set_cidr(d, "10.1.0.0/16");
    let plan_file = d.join("plan.json");
    let plan_file = plan_file.to_str().unwrap();
    let out = landfall(d, &moto, &["plan", "--env", "test", "--out", plan_file]);
    expect_code(&out, 0);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan_file).unwrap()).unwrap();
    let changes = plan["resource_changes"].as_array().unwrap().len();
    let proxy = FaultProxy::start(
        &moto,
        &[
            "--refuse",
            "CreateSubnet:10.1.2.0/24",
            "--slow",
            "0.3",
            "--seed",
            "1",
        ],
    );
    let out = landfall_via(
        d,
        &proxy.endpoint,
        &moto,
        &[
            "apply",
            plan_file,
            "--format",
            "json",
            "--heartbeat",
            "100ms",
        ],
    );
    expect_code(&out, 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("apply incomplete"),
        "{}",
        text(&out)
    );
    (String::from_utf8(out.stdout.clone()).unwrap(), changes)
}

fn render(events: &[Event], reporter: &mut dyn Reporter) {
    for e in events {
        reporter.event(e);
    }
}

#[test]
fn one_apply_rendered_as_terminal_plain_and_json() {
    let (json_lines, changes) = record_apply();

    // JSON lines: every line one object with an `event` field, read back as the typed events.
    let events: Vec<Event> = json_lines
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert!(v["event"].is_string(), "{l}");
            serde_json::from_value(v).unwrap()
        })
        .collect();
    let Some(Event::Finished(summary)) = events.last() else {
        panic!("the last event is the summary: {json_lines}");
    };
    // Counted in changes: a replacement is two steps (two `done` events), one change.
    let done_events = |address: &str| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Done { address: a, .. } if a == address))
            .count()
    };
    assert_eq!(done_events("network.route_table.public"), 2, "{json_lines}");
    let Summary {
        done,
        failed,
        skipped,
        ..
    } = summary.clone();
    assert_eq!(
        done + failed + skipped,
        changes,
        "{summary:?} of {changes} changes"
    );
    assert_eq!(failed, 1, "{json_lines}");
    let all_done = events
        .iter()
        .filter(|e| matches!(e, Event::Done { .. }))
        .count();
    assert!(all_done > done, "{all_done} steps done, {done} changes");
    assert!(skipped >= 1, "{json_lines}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::StillRunning { .. })),
        "a heartbeat for steps held longer than 100ms: {json_lines}"
    );
    assert!(events.contains(&Event::Skipped {
        address: "network.route_table.private".into(),
        operation: Operation::CreateReplacement,
        because: Some("network.subnet.private".into()),
    }));

    // The JSON reporter writes the same lines again.
    let mut json = Json::new(Vec::new());
    render(&events, &mut json);
    assert_eq!(String::from_utf8(json.into_inner()).unwrap(), json_lines);

    // Plain lines.
    let mut plain = Plain::new(Vec::new());
    render(&events, &mut plain);
    let plain = String::from_utf8(plain.into_inner()).unwrap();
    let expected = [
        "network.route_table.public: created (replacement) [",
        "network.route_table.public: old one deleted [",
        "network.subnet.private: failed: ",
        "network.route_table.private: skipped (depends on network.subnet.private)",
        ": still ",
        &format!("{done} changes done, 1 failed, {skipped} skipped in "),
    ];
    for line in expected {
        assert!(plain.contains(line), "missing {line:?} in\n{plain}");
    }

    // The terminal view: the same permanent lines above the spinners.
    let screen = Screen::default();
    {
        let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
        let mut terminal = Terminal::new(target, false);
        render(&events, &mut terminal);
    }
    let shown = screen.0.lock().unwrap().clone();
    for line in expected.iter().filter(|l| !l.contains("still")) {
        assert!(shown.contains(line), "missing {line:?} in\n{shown}");
    }
    assert!(
        !shown.contains(": still "),
        "the spinners show elapsed time instead:\n{shown}"
    );
    // Every permanent line of the plain log is on the screen too (between redraws of the spinners).
    for line in plain.lines().filter(|l| !l.contains(": still ")) {
        let head = line.split(" [").next().unwrap();
        assert!(
            shown.contains(head),
            "missing {head:?}\n{}",
            text_of(&shown, &plain)
        );
    }
}

fn text_of(shown: &str, plain: &str) -> String {
    format!("--- terminal\n{shown}\n--- plain\n{plain}")
}
