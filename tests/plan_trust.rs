//! A saved plan is applied only as configuration and state imply (issue 12, item 1).
//!
//! The plan file comes from a merge-request pipeline its author controls. Each test edits a saved
//! plan as such an author could, applies it, and checks with direct reads of the emulator (not
//! landfall's state) that nothing changed and that the state's serial did not move. The project is
//! `tests/fixtures/trust`: an SCP attached to an OU (stack `org`) and a VPC (stack `network`), and an
//! environment `consumer` reading `test`'s outputs.
mod common;

use common::cli::{expect_code, landfall, text};
use common::moto::Moto;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;

struct Trust {
    dir: tempfile::TempDir,
    moto: Moto,
}

impl Trust {
    /// The fixture, applied: the SCP attached, the VPC tagged `env = test`.
    fn applied() -> Trust {
        let t = Trust {
            dir: common::fixture_copy("tests/fixtures/trust"),
            moto: Moto::start(),
        };
        expect_code(&t.run(&["apply", "--env", "test", "--auto-approve"]), 0);
        t
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        landfall(self.path(), &self.moto, args)
    }

    fn plan_file(&self) -> PathBuf {
        self.path().join("plan.json")
    }

    /// `plan --env ENV --out plan.json`, and the saved plan.
    fn save_plan(&self, env: &str) -> Value {
        let file = self.plan_file();
        let out = self.run(&["plan", "--env", env, "--out", file.to_str().unwrap()]);
        expect_code(&out, 0);
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
    }

    /// Writes `plan` as the plan file and applies it: exit 1, and the error says `expected`.
    #[track_caller]
    fn refused(&self, plan: &Value, expected: &[&str]) -> String {
        let file = self.plan_file();
        std::fs::write(&file, serde_json::to_string_pretty(plan).unwrap()).unwrap();
        let out = self.run(&["apply", file.to_str().unwrap()]);
        expect_code(&out, 1);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        for e in expected {
            assert!(
                stderr.contains(e),
                "`{e}` not in the error:\n{}",
                text(&out)
            );
        }
        stderr
    }

    /// Edits a stack file: each `from` must occur.
    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "`{from}` is not in {file}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    }

    /// The serial of a stack's state, read from the state file.
    fn serial(&self, env: &str, stack: &str) -> u64 {
        let path = self
            .path()
            .join(format!(".landfall/state/{env}/{stack}.json"));
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        doc["serial"].as_u64().unwrap()
    }

    /// Whether the SCP `deny-leaving` exists and is attached to the OU `Workloads`, read from the emulator.
    async fn scp_attached(&self) -> bool {
        let org = aws_sdk_organizations::Client::new(&self.moto.sdk_config().await);
        let policies = org
            .list_policies()
            .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .send()
            .await
            .unwrap();
        let Some(policy) = policies
            .policies()
            .iter()
            .find(|p| p.name() == Some("deny-leaving"))
            .and_then(|p| p.id())
            .map(str::to_string)
        else {
            return false; // no policy, nothing attached
        };
        let targets = org
            .list_targets_for_policy()
            .policy_id(policy)
            .send()
            .await
            .unwrap();
        targets
            .targets()
            .iter()
            .any(|t| t.name() == Some("Workloads"))
    }

    /// The `env` tag of every VPC landfall made, read from the emulator.
    async fn vpc_env_tags(&self) -> Vec<String> {
        let ec2 = aws_sdk_ec2::Client::new(&self.moto.sdk_config().await);
        let vpcs = ec2.describe_vpcs().send().await.unwrap();
        let tag = |v: &aws_sdk_ec2::types::Vpc, key: &str| {
            v.tags()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        vpcs.vpcs()
            .iter()
            .filter(|v| tag(v, "landfall:address").is_some())
            .filter_map(|v| tag(v, "env"))
            .collect()
    }

    /// Nothing changed: the SCP attached, one VPC tagged `env`, serials as given.
    async fn unchanged(&self, env_tag: &str, serials: (u64, u64)) {
        assert!(self.scp_attached().await, "the SCP attachment is gone");
        assert_eq!(self.vpc_env_tags().await, vec![env_tag.to_string()]);
        let now = (self.serial("test", "org"), self.serial("test", "network"));
        assert_eq!(now, serials, "state moved");
    }

    fn serials(&self) -> (u64, u64) {
        (self.serial("test", "org"), self.serial("test", "network"))
    }
}

/// The change of the plan at `address`.
fn change<'a>(plan: &'a mut Value, address: &str) -> &'a mut Value {
    plan["resource_changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change of {address}"))
}

/// The state record of `address`, from `state show`.
fn state_show(t: &Trust, address: &str) -> Value {
    let out = t.run(&["state", "show", "--env", "test", address]);
    expect_code(&out, 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The plan of a tag change of the VPC (`env = test` to `env = staging`).
fn retag(t: &Trust) -> Value {
    t.edit(
        "environments/test/env.toml",
        "env_tag = \"test\"",
        "env_tag = \"staging\"",
    );
    let plan = t.save_plan("test");
    assert_eq!(
        plan["resource_changes"].as_array().unwrap().len(),
        1,
        "{plan}"
    );
    assert_eq!(plan["resource_changes"][0]["action"], "update");
    plan
}

#[tokio::test(flavor = "multi_thread")]
async fn an_added_delete_of_the_scp_attachment_is_refused_and_the_attachment_stays() {
    let t = Trust::applied();
    let serials = t.serials();
    let mut plan = retag(&t);
    let attachment = state_show(&t, "org.policy_attachment.deny_leaving");
    let delete = json!({
        "address": "org.policy_attachment.deny_leaving", "kind": "policy_attachment", "stack": "org",
        "account": null, "region": null, "action": "delete", "id": attachment["id"],
        "before": attachment["attributes"], "after": null, "changed": [], "replace_because": [],
        "reason": null
    });
    plan["resource_changes"]
        .as_array_mut()
        .unwrap()
        .push(delete);
    plan["summary"]["destroy"] = json!(1);
    t.refused(
        &plan,
        &[
            "plan file says delete org.policy_attachment.deny_leaving",
            "configuration and state imply no change",
            "the plan file was edited or is stale",
        ],
    );
    t.unchanged("test", serials).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_changed_to_delete_or_to_create_is_refused_and_no_vpc_is_duplicated() {
    let t = Trust::applied();
    let serials = t.serials();
    let plan = retag(&t);
    let id = plan["resource_changes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut deleted = plan.clone();
    change(&mut deleted, "network.vpc.main")["action"] = json!("delete");
    t.refused(
        &deleted,
        &[&format!(
            "plan file says delete network.vpc.main ({id}); configuration and state imply update network.vpc.main ({id})"
        )],
    );
    t.unchanged("test", serials).await;

    let mut created = plan.clone();
    let c = change(&mut created, "network.vpc.main");
    c["action"] = json!("create");
    c["id"] = Value::Null;
    t.refused(
        &created,
        &["plan file says create network.vpc.main; configuration and state imply update"],
    );
    t.unchanged("test", serials).await;

    // The untouched plan still applies.
    std::fs::write(t.plan_file(), serde_json::to_string(&plan).unwrap()).unwrap();
    expect_code(&t.run(&["apply", t.plan_file().to_str().unwrap()]), 0);
    assert_eq!(t.vpc_env_tags().await, vec!["staging".to_string()]);
    assert!(t.scp_attached().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_value_is_refused_naming_the_attribute() {
    let t = Trust::applied();
    let serials = t.serials();
    let mut plan = retag(&t);
    change(&mut plan, "network.vpc.main")["after"]["tags"]["env"] = json!("evil");
    t.refused(
        &plan,
        &["network.vpc.main: plan file says after.tags = {\"Name\":\"main\",\"env\":\"evil\"}"],
    );
    t.unchanged("test", serials).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_observation_is_refused_as_stale() {
    let t = Trust::applied();
    let serials = t.serials();
    let mut plan = retag(&t);
    // The author pretends AWS reported the attachment gone, and adds its "re-creation".
    plan["derived_from"]["observed"]["live"]["org.policy_attachment.deny_leaving"] = Value::Null;
    t.refused(
        &plan,
        &[
            "the saved plan is stale",
            "AWS reports org.policy_attachment.deny_leaving differently: the plan file says null",
        ],
    );
    t.unchanged("test", serials).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_of_another_configuration_with_its_digests_edited_is_refused() {
    let t = Trust::applied();
    let serials = t.serials();
    let original = t.save_plan("test");
    // The merge request removes the guardrail and plans; the protected pipeline has the original
    // configuration, whose digests the author copies into the plan file.
    let org = t.path().join("stacks/org.toml");
    let text = std::fs::read_to_string(&org).unwrap();
    let without = text
        .split("[policy_attachment.deny_leaving]")
        .next()
        .unwrap();
    std::fs::write(&org, without).unwrap();
    let mut plan = t.save_plan("test");
    assert_eq!(plan["resource_changes"][0]["action"], "delete", "{plan}");
    std::fs::write(&org, &text).unwrap();

    // As made: the configuration is not the one the plan was made from.
    t.refused(
        &plan,
        &["the configuration of stack `org` is not the one the plan was made from"],
    );
    plan["stacks"] = original["stacks"].clone();
    plan["config_digest"] = original["config_digest"].clone();
    t.refused(
        &plan,
        &["plan file says delete org.policy_attachment.deny_leaving"],
    );
    t.unchanged("test", serials).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_made_before_another_apply_is_refused_as_stale() {
    let t = Trust::applied();
    let plan = retag(&t);
    expect_code(&t.run(&["apply", "--env", "test", "--auto-approve"]), 0);
    let serials = t.serials();
    t.refused(
        &plan,
        &["the saved plan is stale: the state of stack `network` changed"],
    );
    t.unchanged("staging", serials).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_whose_remote_output_changed_is_refused_as_stale() {
    let t = Trust::applied();
    let plan = t.save_plan("consumer");
    assert_eq!(plan["resource_changes"][0]["action"], "create", "{plan}");
    assert_eq!(
        plan["derived_from"]["remote_outputs"]["test.network"],
        json!({"env_tag": "test"})
    );
    // `test` applies a new output value after the consumer's plan was made.
    t.edit(
        "environments/test/env.toml",
        "env_tag = \"test\"",
        "env_tag = \"staging\"",
    );
    expect_code(&t.run(&["apply", "--env", "test", "--auto-approve"]), 0);
    t.refused(
        &plan,
        &["the outputs of `test.network` read through remote.test.network changed"],
    );
    let iam = aws_sdk_iam::Client::new(&t.moto.sdk_config().await);
    let roles = iam.list_roles().send().await.unwrap();
    assert!(roles.roles().iter().all(|r| r.role_name() != "reader"));
    assert!(
        !t.path()
            .join(".landfall/state/consumer/consumer.json")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_comment_or_a_reformat_after_the_plan_does_not_make_it_stale() {
    let t = Trust::applied();
    let plan = retag(&t);
    t.edit(
        "stacks/network.toml",
        "[vpc.main]\ncidr_block = \"10.0.0.0/16\"\ntags = { Name = \"main\", env = \"${var.env_tag}\" }",
        "# The one VPC.\n[vpc.main]\ntags = { env = \"${var.env_tag}\", Name = \"main\" }\ncidr_block   =   \"10.0.0.0/16\"",
    );
    std::fs::write(t.plan_file(), serde_json::to_string(&plan).unwrap()).unwrap();
    let out = t.run(&["apply", t.plan_file().to_str().unwrap()]);
    expect_code(&out, 0);
    assert_eq!(t.vpc_env_tags().await, vec!["staging".to_string()]);
}

/// A destroy plan or a replacement on request is not implied by configuration: a genuine plan file of
/// either (made with `plan --destroy` or `--replace`) is applied only when `apply FILE` repeats the
/// option, so a merge-request author cannot have the protected pipeline destroy the landing zone.
#[tokio::test(flavor = "multi_thread")]
async fn a_destroy_or_replace_plan_is_applied_only_when_the_command_line_says_so() {
    let t = Trust::applied();
    let serials = t.serials();
    let file = t.plan_file();
    let file = file.to_str().unwrap();

    let out = t.run(&["plan", "--env", "test", "--destroy", "--out", file]);
    expect_code(&out, 0);
    let refused = t.run(&["apply", file]);
    expect_code(&refused, 1);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("was planned with --destroy") && stderr.contains("apply FILE --destroy"),
        "{}",
        text(&refused)
    );
    t.unchanged("test", serials).await;

    let out = t.run(&[
        "plan",
        "--env",
        "test",
        "--replace",
        "network.vpc.main",
        "--out",
        file,
    ]);
    expect_code(&out, 0);
    let refused = t.run(&["apply", file]);
    expect_code(&refused, 1);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--replace network.vpc.main"),
        "{}",
        text(&refused)
    );
    // Saying another option than the plan's is refused too.
    expect_code(&t.run(&["apply", file, "--destroy"]), 1);
    t.unchanged("test", serials).await;

    // Said on the command line, the plan is applied: the VPC is replaced (one VPC, a new id).
    let before = state_show(&t, "network.vpc.main")["id"].clone();
    let out = t.run(&["apply", file, "--replace", "network.vpc.main"]);
    expect_code(&out, 0);
    assert_ne!(state_show(&t, "network.vpc.main")["id"], before);
    assert_eq!(t.vpc_env_tags().await, vec!["test".to_string()]);

    let out = t.run(&["plan", "--env", "test", "--destroy", "--out", file]);
    expect_code(&out, 0);
    let out = t.run(&["apply", file, "--destroy"]);
    expect_code(&out, 0);
    assert!(!t.scp_attached().await, "the destroy plan was not applied");
    assert!(t.vpc_env_tags().await.is_empty());
}
