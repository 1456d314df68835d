//! A private moto server (the local AWS emulator) per test, on a free loopback port.
//!
//! The pinned moto lives in the project's `.venv/` (installed by `scripts/moto-venv.sh`, which
//! `scripts/test.sh` runs first) and is started through `tools/moto/moto_server`, which adds
//! landfall's emulator extensions (AWS behaviour moto lacks, one module each in
//! `tools/moto/extensions/`). Each `Moto` is its own process, so tests run in parallel safely.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub port: u16,
    pub endpoint: String,
}

pub const REGION: &str = "eu-west-1";

fn moto_server() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("tools/moto/moto_server");
    if !root.join(".venv/bin/moto_server").exists() {
        let status = Command::new(root.join("scripts/moto-venv.sh"))
            .stdout(Stdio::null())
            .status()
            .expect("run scripts/moto-venv.sh");
        assert!(status.success(), "scripts/moto-venv.sh failed");
    }
    bin
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// With extra environment for the server, e.g. `MOTO_IAM_LOAD_MANAGED_POLICIES=true`.
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let bin = moto_server();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            let mut moto = Moto {
                child,
                port,
                endpoint: format!("http://127.0.0.1:{port}"),
            };
            if moto.wait_ready() {
                return moto;
            }
        }
        panic!("moto_server did not start");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false; // exited: port taken?
            }
            if self.request("GET", "/moto-api/data.json").is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// A raw HTTP request to the emulator; the response body, or None when it did not answer.
    pub fn request(&self, method: &str, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        let (_, body) = out.split_once("\r\n\r\n")?;
        Some(body.to_string())
    }

    /// Lets the next `n` requests through without IAM checks, then authorises every request against
    /// IAM again: moto's `INITIAL_NO_AUTH_ACTION_COUNT` (start with it in [`Moto::start_with`] to
    /// enforce IAM from the start), reset through `/moto-api/reset-auth`. For what AWS does by
    /// itself and the emulator does not, e.g. giving a new account's OrganizationAccountAccessRole
    /// its administrator policy; `n = 0` enforces at once.
    pub fn free_requests(&self, n: u32) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        let body = n.to_string();
        write!(
            s,
            "POST /moto-api/reset-auth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "reset-auth: {out}");
    }

    /// Empties the emulator.
    pub fn reset(&self) {
        self.request("POST", "/moto-api/reset").expect("reset moto");
    }

    /// Environment variables that point the AWS SDK (and so the landfall binary) at this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("LANDFALL_S3_FORCE_PATH_STYLE", "true".into()),
        ]
    }

    /// An SDK configuration for reading the emulator directly, independently of landfall.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await
    }

    /// An SDK configuration acting inside member account `account`, with the credentials of its
    /// `OrganizationAccountAccessRole` assumed directly (not through landfall).
    pub async fn member_config(&self, account: &str) -> aws_config::SdkConfig {
        let assumed = aws_sdk_sts::Client::new(&self.sdk_config().await)
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
            ))
            .role_session_name("check")
            .send()
            .await
            .unwrap();
        let c = assumed.credentials().unwrap();
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_credential_types::Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "check",
            ))
            .load()
            .await
    }

    /// landfall's AWS access pointed at this emulator.
    pub async fn aws(&self) -> landfall::aws::Aws {
        landfall::aws::Aws::for_endpoint(&self.endpoint, landfall::aws::Options::new(REGION)).await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `scripts/fault-proxy.py` in front of an emulator: throttling, dropped connections, slow answers,
/// CreateAccount held IN_PROGRESS. Point landfall at `endpoint` instead of the emulator's.
pub struct FaultProxy {
    child: Child,
    pub endpoint: String,
    port: u16,
}

impl FaultProxy {
    /// `faults`: the proxy's flags, e.g. `["--throttle", "0.2", "--drop", "0.05"]`.
    pub fn start(upstream: &Moto, faults: &[&str]) -> FaultProxy {
        use std::io::BufRead;
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("python3")
            .arg(root.join("scripts/fault-proxy.py"))
            .args(["--port", "0", "--upstream", &upstream.endpoint])
            .args(faults)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start scripts/fault-proxy.py");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("proxy stdout"))
            .read_line(&mut line)
            .expect("proxy announces its port");
        let port: u16 = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected proxy output: {line:?}"));
        FaultProxy {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
        }
    }

    /// How many faults were injected: {"forwarded", "throttled", "dropped", "slowed", "in_progress"}.
    pub fn counts(&self) -> serde_json::Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to proxy");
        write!(
            s,
            "GET /__faults HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("{}");
        serde_json::from_str(body).unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
