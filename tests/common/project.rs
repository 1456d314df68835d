//! A one-stack project in a temporary folder with its own emulator, and the steps of a resource's
//! lifecycle run against it (the lifecycle suites: `tests/lifecycle*.rs`).

use super::cli::{expect_code, landfall, text};
use super::moto::Moto;
use std::path::Path;
use std::process::Output;

/// A one-stack project (`main`, environment `test`) in a temporary folder, against its own emulator.
pub struct Project {
    dir: tempfile::TempDir,
    pub moto: Moto,
}

impl Project {
    pub fn new(stack: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("landfall.toml"),
            "[project]\nname = \"lifecycle\"\nhome_region = \"eu-west-1\"\n\n[backend]\nkind = \"local\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.join("environments/test")).unwrap();
        std::fs::write(
            d.join("environments/test/env.toml"),
            "stacks = [\"main\"]\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.join("stacks")).unwrap();
        std::fs::write(d.join("stacks/main.toml"), stack).unwrap();
        Project {
            dir,
            moto: Moto::start(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        landfall(self.path(), &self.moto, args)
    }

    /// Rewrites the stack file: each `from` must occur.
    pub fn edit(&self, edits: &[(&str, &str)]) {
        let path = self.path().join("stacks/main.toml");
        let mut text = std::fs::read_to_string(&path).unwrap();
        for (from, to) in edits {
            assert!(text.contains(from), "`{from}` is not in the stack:\n{text}");
            text = text.replace(from, to);
        }
        std::fs::write(&path, text).unwrap();
    }

    #[track_caller]
    pub fn apply(&self) -> Output {
        let out = self.run(&["apply", "--env", "test", "--auto-approve", "--stats"]);
        expect_code(&out, 0);
        out
    }

    /// The plan has changes, and its text mentions each of `expected`.
    #[track_caller]
    pub fn expect_plan(&self, expected: &[&str]) -> String {
        let out = self.run(&["plan", "--env", "test", "--detailed-exitcode"]);
        expect_code(&out, 2);
        let plan = String::from_utf8_lossy(&out.stdout).into_owned();
        for e in expected {
            assert!(plan.contains(e), "`{e}` not in the plan:\n{plan}");
        }
        plan
    }

    #[track_caller]
    pub fn expect_converged(&self) {
        let out = self.run(&["plan", "--env", "test", "--detailed-exitcode"]);
        expect_code(&out, 0);
    }

    /// Edits, plans (expecting `expected` in the plan), applies, and checks the next plan is empty.
    #[track_caller]
    pub fn change(&self, edits: &[(&str, &str)], expected: &[&str]) {
        self.edit(edits);
        self.expect_plan(expected);
        self.apply();
        self.expect_converged();
    }

    /// Renames `kind.name` to `kind.name_renamed` in the stack (header and references) and adds the
    /// `[[moved]]` entry.
    pub fn rename_through_moved(&self, kind: &str, name: &str) {
        let new = format!("{name}_renamed");
        self.edit(&[(&format!("[{kind}.{name}]"), &format!("[{kind}.{new}]"))]);
        let path = self.path().join("stacks/main.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace(&format!("${{{kind}.{name}."), &format!("${{{kind}.{new}."));
        std::fs::write(
            &path,
            format!("{text}\n[[moved]]\nfrom = \"{kind}.{name}\"\nto = \"{kind}.{new}\"\n"),
        )
        .unwrap();
    }

    /// `state rm` then `import ADDR ID`: the next plan is empty (nothing created again).
    #[track_caller]
    pub fn reimport(&self, address: &str, id: &str) {
        expect_code(&self.run(&["state", "rm", "--env", "test", address]), 0);
        let out = self.run(&["import", "--env", "test", address, id]);
        expect_code(&out, 0);
        self.expect_converged();
    }

    /// The id state records for `address` (to compare with what the emulator holds).
    pub fn id(&self, address: &str) -> String {
        let out = self.run(&["state", "show", "--env", "test", address]);
        expect_code(&out, 0);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["id"].as_str().unwrap().to_string()
    }

    /// Destroy ends with exit 0 and empty state; returns its output.
    #[track_caller]
    pub fn destroy(&self, extra: &[&str]) -> Output {
        let mut args = vec!["destroy", "--env", "test", "--auto-approve"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        expect_code(&out, 0);
        let list = self.run(&["state", "list", "--env", "test"]);
        assert!(
            String::from_utf8_lossy(&list.stdout).trim().is_empty(),
            "{}",
            text(&list)
        );
        out
    }

    pub async fn org(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.moto.sdk_config().await)
    }

    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.moto.sdk_config().await)
    }

    pub async fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.moto.sdk_config().await)
    }
}
