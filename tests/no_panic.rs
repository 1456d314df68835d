//! No input may panic: every prefix of the example's files (cut at many points, so strings, tables and
//! `${...}` are left open in every way) and a few byte-level mutations are loaded and resolved in-process.

mod common;

use common::example_copy;
use std::path::Path;

fn validate(root: &Path, env: &str) {
    // Load errors are fine (they are diagnostics); only a panic fails this test.
    if let Ok(loaded) = landfall::load::load(root, env) {
        let (_, result) = landfall::resolve::resolve(loaded);
        if let Ok(resolved) = result {
            // Resolution seals the graph (a cycle is a diagnostic, never a panic).
            assert_eq!(resolved.graph.node_count(), resolved.instances.len());
        }
    }
}

#[test]
fn truncated_and_mutated_files_never_panic() {
    let tmp = example_copy();
    let targets = [
        "stacks/organization.toml",
        "modules/baseline/network.toml",
        "environments/sandbox/env.toml",
    ];
    for target in targets {
        let path = tmp.path().join(target);
        let original = std::fs::read(&path).unwrap();
        let step = (original.len() / 120).max(1);
        let mut cuts: Vec<Vec<u8>> = (0..original.len())
            .step_by(step)
            .map(|n| original[..n].to_vec())
            .collect();
        // Replace single bytes with characters that matter to TOML and to expressions.
        for (i, pos) in (0..original.len()).step_by(step * 3).enumerate() {
            let mut m = original.clone();
            m[pos] = b"\"{}[]$.=\\'#"[i % 11];
            cuts.push(m);
        }
        for variant in cuts {
            std::fs::write(&path, &variant).unwrap();
            validate(tmp.path(), "sandbox");
        }
        std::fs::write(&path, &original).unwrap();
    }
}

#[test]
fn odd_expressions_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("landfall.toml"),
        "[project]\nname = \"t\"\nhome_region = \"eu-west-1\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("environments/test")).unwrap();
    std::fs::write(
        tmp.path().join("environments/test/env.toml"),
        "stacks = [\"s\"]\n[vars]\nm = { a = 1 }\nl = [1]\n",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("stacks")).unwrap();
    let exprs = [
        "${}",
        "${",
        "${)}",
        "${var}",
        "${var.l[99]}",
        "${var.l[-1]}",
        "${var.l[0.5]}",
        "${var.m.a.b}",
        "${var.m[1]}",
        "${1/0}",
        "${1%0}",
        "${-\"x\"}",
        "${!1}",
        "${cidrsubnet(\"10.0.0.0/8\", 40, 1)}",
        "${cidrsubnet(\"10.0.0.0/8\", 2, 9)}",
        "${cidrhost(\"10.0.0.0/30\", 9)}",
        "${format(\"%d %s\")}",
        "${format(\"%q\", 1)}",
        "${range(1e12)}",
        "${jsondecode(\"{\")}",
        "${accounts_in(1)}",
        "${accounts_in()}",
        "${each.key}",
        "${count.index}",
        "${stack}",
        "${stack.s.vpc.x}",
        "${remote.a}",
        "${module.x.y}",
        "${vpc}",
        "${vpc.v[\"k\"]}",
        "${vpc.v.nope}",
        "${1 ? 2 : 3}",
        "${[1,2][5]}",
        "${{a=1}.b}",
        "${length(1)}",
        "${file(\"/nonexistent\")}",
        "${split(\"\", \"abc\")}",
        "${tonumber(\"x\")}",
        "${\"\\q\"}",
        "${\"unterminated}",
        "${99999999999999999999999}",
        "${1.2.3}",
        "${a.0.1}",
        "$${literal}",
        "${lookup({}, \"k\")}",
    ];
    // Nested as deep as the parser allows, and far deeper (a generated file, a hostile one): an error
    // at the expression, never a stack overflow in the parser, the evaluator or dropping the tree.
    let depth = landfall::expr::MAX_DEPTH - 1;
    let deep = [
        format!("${{{}1{}}}", "(".repeat(depth), ")".repeat(depth)),
        format!("${{{}1{}}}", "[".repeat(depth), "]".repeat(depth)),
        format!("${{{}1{}}}", "length([".repeat(depth), "])".repeat(depth)),
        format!("${{1{}}}", "+1".repeat(depth)),
        format!("${{{}1{}}}", "(".repeat(5000), ")".repeat(5000)),
        format!("${{{}1{}}}", "{a=".repeat(5000), "}".repeat(5000)),
        format!("${{1{}}}", "*1".repeat(10_000)),
        format!("${{{}1}}", "-".repeat(10_000)),
    ];
    for e in exprs.iter().map(|e| e.to_string()).chain(deep) {
        let body =
            format!("[vpc.v]\ncidr_block = '{e}'\n[iam_group.g]\nname = '{e}'\ncount = '{e}'\n");
        std::fs::write(tmp.path().join("stacks/s.toml"), body).unwrap();
        validate(tmp.path(), "test");
    }
}

/// Depth and size extremes, through the real binary: each exits 1 with a located diagnostic, never
/// aborts (a stack overflow is exit 134), and prints how long it took (measured, not asserted).
#[test]
fn depth_and_size_extremes_exit_1_with_a_located_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("landfall.toml"),
        "[project]\nname = \"t\"\nhome_region = \"eu-west-1\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("environments/test")).unwrap();
    std::fs::write(
        tmp.path().join("environments/test/env.toml"),
        "stacks = [\"s\"]\n[vars]\nl = [1]\n",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("stacks")).unwrap();
    let n = 10_000;
    let cases: Vec<(&str, String)> = vec![
        // TOML itself nested deep: arrays, inline tables, dotted keys.
        (
            "toml arrays",
            format!(
                "[vpc.v]\ncidr_block = {}1{}\n",
                "[".repeat(n),
                "]".repeat(n)
            ),
        ),
        (
            "toml inline tables",
            format!(
                "[vpc.v]\ncidr_block = {}1{}\n",
                "{a=".repeat(n),
                "}".repeat(n)
            ),
        ),
        (
            "toml dotted keys",
            format!("[vpc.v]\n{} = 1\n", vec!["k"; n].join(".")),
        ),
        (
            "toml table headers",
            format!("[{}]\nx = 1\n", vec!["vpc"; n].join(".")),
        ),
        // Expressions nested deep in every construct.
        (
            "parentheses",
            format!(
                "[vpc.v]\ncidr_block = '${{{}1{}}}'\n",
                "(".repeat(n),
                ")".repeat(n)
            ),
        ),
        (
            "lists",
            format!(
                "[vpc.v]\ncidr_block = '${{{}1{}}}'\n",
                "[".repeat(n),
                "]".repeat(n)
            ),
        ),
        (
            "calls",
            format!(
                "[vpc.v]\ncidr_block = '${{{}1{}}}'\n",
                "length([".repeat(n),
                "])".repeat(n)
            ),
        ),
        (
            "not",
            format!("[vpc.v]\ncidr_block = '${{{}true}}'\n", "!".repeat(n)),
        ),
        (
            "conditionals",
            format!(
                "[vpc.v]\ncidr_block = '${{{}1}}'\n",
                "true ? 1 : ".repeat(n)
            ),
        ),
        (
            "indexes",
            format!("[vpc.v]\ncidr_block = '${{var.l{}}}'\n", "[0]".repeat(n)),
        ),
        (
            "attributes",
            format!("[vpc.v]\ncidr_block = '${{var{}}}'\n", ".l".repeat(n)),
        ),
        (
            "binary chain",
            format!("[vpc.v]\ncidr_block = '${{1{}}}'\n", " + 1".repeat(n)),
        ),
        (
            "mixed chain",
            format!(
                "[vpc.v]\ncidr_block = '${{1{}}}'\n",
                " * 1 - 1 == 1 && true || 2".repeat(n / 5)
            ),
        ),
        // Sizes: a megabyte string, a huge array, a huge template.
        (
            "megabyte string",
            format!(
                "[iam_role.r]\nname = \"r\"\nassume_role_policy = \"{{}}\"\ndescription = \"{}\"\n",
                "x".repeat(1 << 20)
            ),
        ),
        (
            "huge array",
            format!("[vpc.v]\ncidr_block = [{}]\n", vec!["1"; 200_000].join(",")),
        ),
        (
            "huge template",
            format!("[vpc.v]\ncidr_block = \"{}\"\n", "${1}".repeat(100_000)),
        ),
    ];
    let mut failures = Vec::new();
    for (name, body) in cases {
        std::fs::write(tmp.path().join("stacks/s.toml"), &body).unwrap();
        let started = std::time::Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_landfall"))
            .args(["validate", "--env", "test"])
            .current_dir(tmp.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let took = started.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        println!("{name}: exit {:?} in {took:?}", out.status.code());
        if out.status.code() != Some(1) || !err.contains("--> stacks/s.toml:") {
            failures.push(format!(
                "{name}: exit {:?}\n{}",
                out.status.code(),
                &err[..err.len().min(2000)]
            ));
        }
        if err.lines().any(|l| l.len() > 1000) {
            failures.push(format!(
                "{name}: a line of the message is longer than 1000 characters"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
