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
