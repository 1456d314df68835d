//! The baseline for `scripts/bench-apply.sh`: the same CreatePolicy calls landfall makes for N
//! independent `iam_policy` resources, sent by a bare AWS SDK client with the same concurrency, so the
//! two request rates can be compared on one emulator.
//!
//! cargo run --release --example raw_create_policies -- ENDPOINT COUNT CONCURRENCY

use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (endpoint, count, concurrency) = match args.as_slice() {
        [_, e, n, c] => (
            e.clone(),
            n.parse::<usize>().unwrap_or(200),
            c.parse::<usize>().unwrap_or(10),
        ),
        _ => {
            eprintln!("usage: raw_create_policies ENDPOINT COUNT CONCURRENCY");
            std::process::exit(2);
        }
    };
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "raw", "raw", None, None, "raw",
        ))
        .load()
        .await;
    let iam = aws_sdk_iam::Client::new(&config);
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let (iam, limit) = (iam.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            iam.create_policy()
                .policy_name(format!("raw-{i}"))
                .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
                .tags(aws_sdk_iam::types::Tag::builder().key("landfall:address").value(format!("bench.iam_policy.p{i}")).build().unwrap())
                .send()
                .await
                .is_ok()
        });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        ok += usize::from(r.unwrap_or(false));
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{ok} CreatePolicy requests in {secs:.2} s: {:.0} requests/s",
        ok as f64 / secs
    );
}
