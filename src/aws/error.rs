//! AWS errors as landfall reports them, and the retry loop every SDK call goes through.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rand::Rng;
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// A failed AWS call: the operation, AWS's error code and message, and whether trying again may help.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub operation: String,
    /// AWS's error code, e.g. `EntityAlreadyExists`; `None` for transport failures.
    pub code: Option<String>,
    pub message: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    pub transient: bool,
}

impl AwsError {
    /// An error raised by landfall itself about an AWS operation (e.g. an unexpected response).
    pub fn other(operation: impl Into<String>, message: impl Into<String>) -> AwsError {
        AwsError {
            operation: operation.into(),
            code: None,
            message: message.into(),
            status: None,
            transient: false,
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// Error codes that mean the thing asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
            || self
                .code
                .as_deref()
                .is_some_and(|c| c.contains("NotFound") || c == "NoSuchEntity" || c == "NoSuchKey")
    }

    pub fn from_sdk<E>(operation: &str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        match &err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let body = service.raw().body().bytes().unwrap_or_default();
                let (body_code, body_message) = parse_error_body(body);
                let code = e.code().map(str::to_string).or(body_code);
                let transient = status.is_some_and(|s| s >= 500 || s == 429)
                    || code.as_deref().is_some_and(is_transient_code);
                // An error the SDK has no model for prints as "unhandled error": say what AWS said.
                let message = e
                    .message()
                    .map(str::to_string)
                    .or(body_message)
                    .unwrap_or_else(|| {
                        let text = String::from_utf8_lossy(body);
                        let text = text.trim();
                        match (text.is_empty(), &code) {
                            (false, _) => {
                                format!("HTTP {}: {}", status.unwrap_or(0), cut(text, 500))
                            }
                            (true, Some(code)) => code.clone(),
                            (true, None) => format!("HTTP {} without a body", status.unwrap_or(0)),
                        }
                    });
                AwsError {
                    operation: operation.to_string(),
                    message,
                    code,
                    status,
                    transient,
                }
            }
            // No credentials anywhere in the chain: trying again will not find any.
            _ if caused_by::<aws_credential_types::provider::error::CredentialsError>(&err)
                && !caused_by::<super::AccessRoleError>(&err) =>
            {
                AwsError {
                    operation: operation.to_string(),
                    code: Some("NoCredentials".into()),
                    message: format!(
                        "no AWS credentials: landfall looks where the AWS CLI does (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the shared files, SSO, AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, container and instance metadata); {}",
                        error_chain(&err)
                    ),
                    status,
                    transient: false,
                }
            }
            // Timeouts, dropped connections, unparseable (e.g. truncated) responses, and credentials
            // that could not be loaded yet (a new account's role is not assumable at once).
            // A member account whose access role could not be assumed: already waited for.
            _ if caused_by::<super::AccessRoleError>(&err) => AwsError {
                operation: operation.to_string(),
                code: Some("AccessRoleUnavailable".into()),
                message: error_chain(&err),
                status,
                transient: false,
            },
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_)
            | SdkError::ConstructionFailure(_) => AwsError {
                operation: operation.to_string(),
                code: None,
                message: error_chain(&err),
                status,
                transient: true,
            },
            _ => AwsError {
                operation: operation.to_string(),
                code: None,
                message: error_chain(&err),
                status,
                transient: status.is_some_and(|s| s >= 500),
            },
        }
    }
}

/// Whether an error of type `T` is somewhere in `err`'s chain of sources.
fn caused_by<T: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.is::<T>() {
            return true;
        }
        next = e.source();
    }
    false
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// The error code and message in an error body the SDK could not model: AWS's XML
/// (`<Code>`/`<Message>`) or JSON (`__type` or `code`, `message` or `Message`) shapes.
fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(body);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text) {
        let field = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
                .map(|v| v.rsplit('#').next().unwrap_or(v).to_string())
        };
        return (
            field(&["__type", "code", "Code"]),
            field(&["message", "Message"]),
        );
    }
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let len = text[start..].find(&format!("</{name}>"))?;
        Some(text[start..start + len].trim().to_string())
    };
    (tag("Code"), tag("Message"))
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// Error codes AWS uses for throttling and for conflicts that clear on their own.
fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "SlowDown"
            | "ConcurrentModificationException"
            | "PriorRequestNotComplete"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "InternalError"
            | "InternalFailure"
            | "InternalServerError"
            | "RequestTimeout"
            | "RequestTimeoutException"
    )
}

/// `CreateRole failed: AccessDenied (HTTP 403): User: ... is not authorized ...`: the operation, AWS's
/// error code, the HTTP status when an answer arrived, and AWS's message.
impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: ", self.operation)?;
        match (&self.code, self.status) {
            (Some(code), Some(status)) => write!(f, "{code} (HTTP {status}): ")?,
            (Some(code), None) => write!(f, "{code}: ")?,
            (None, Some(status)) if !self.message.starts_with("HTTP ") => {
                write!(f, "HTTP {status}: ")?
            }
            (None, _) => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for AwsError {}

/// Retry policy: capped exponential backoff with full jitter.
const MAX_ATTEMPTS: u32 = 10;
/// Attempts that got no answer (refused, timed out, dropped) are retried fewer times, and not once
/// this long has passed since the first: a wrong or silent endpoint fails fast.
const MAX_UNANSWERED_ATTEMPTS: u32 = 5;
const UNANSWERED_BUDGET: Duration = Duration::from_secs(25);
const BASE_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(10);

/// The delay before attempt `attempt + 1`: uniform in [0, min(cap, base * 2^attempt)].
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BASE_DELAY
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_DELAY);
    let millis = ceiling.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(millis / 4..=millis.max(1)))
}

/// Sends an SDK request, retrying transient failures (throttling, 5xx, dropped connections, timeouts,
/// concurrent modification) with capped, jittered exponential backoff.
///
/// ```ignore
/// let out = call("DescribeVpcs", || ec2.describe_vpcs().vpc_ids(id).send()).await?;
/// ```
pub async fn call<T, E, F, Fut>(operation: &str, send: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    // Nothing to look for between attempts: the same retries as a create that finds nothing.
    let nothing = || async { Ok(None::<std::convert::Infallible>) };
    match call_create(operation, send, nothing).await? {
        Created::Sent(out) => Ok(out),
        Created::Found(never) => match never {},
    }
}

/// What a non-idempotent create came to: AWS's answer, or the resource found after an attempt whose
/// answer never arrived.
pub enum Created<O, R> {
    Sent(O),
    Found(R),
}

/// Like [`call`], for a create that is not idempotent. An attempt that ends without an answer (a
/// timeout, a dropped connection, an unreadable response) may have been carried out by AWS, so
/// before sending again `find` looks for what it would have created (by landfall's address tag);
/// when found, that is returned instead of creating a second one.
pub async fn call_create<O, E, F, Fut, R, G, GFut>(
    operation: &str,
    mut send: F,
    mut find: G,
) -> Result<Created<O, R>, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
    G: FnMut() -> GFut,
    GFut: Future<Output = Result<Option<R>, AwsError>>,
{
    let (mut attempt, mut unanswered_attempts) = (0, 0);
    let started = std::time::Instant::now();
    loop {
        match super::observe::tracked(attempt + 1, send()).await {
            (Ok(out), _) => return Ok(Created::Sent(out)),
            (Err(err), endpoint) => {
                let unanswered = matches!(
                    err,
                    SdkError::TimeoutError(_)
                        | SdkError::DispatchFailure(_)
                        | SdkError::ResponseError(_)
                );
                let mut err = AwsError::from_sdk(operation, err);
                attempt += 1;
                if unanswered {
                    unanswered_attempts += 1;
                    if let Some(endpoint) = endpoint {
                        err.message = format!("{} (endpoint {endpoint})", err.message);
                    }
                }
                let give_up = attempt >= MAX_ATTEMPTS
                    || (unanswered
                        && (unanswered_attempts >= MAX_UNANSWERED_ATTEMPTS
                            || started.elapsed() >= UNANSWERED_BUDGET));
                if !err.transient || give_up {
                    return Err(err);
                }
                tokio::time::sleep(backoff(attempt)).await;
                if unanswered && let Some(found) = find().await? {
                    return Ok(Created::Found(found));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_grows() {
        for attempt in 0..40 {
            assert!(backoff(attempt) <= MAX_DELAY);
        }
        let early: u128 = (0..200).map(|_| backoff(1).as_millis()).sum();
        let late: u128 = (0..200).map(|_| backoff(6).as_millis()).sum();
        assert!(late > early * 4, "{early} vs {late}");
    }

    #[test]
    fn unmodeled_error_bodies_give_their_code_and_message() {
        let xml = br#"<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/plan is not authorized</Message></Error></ErrorResponse>"#;
        assert_eq!(
            parse_error_body(xml),
            (
                Some("AccessDenied".into()),
                Some("User: arn:aws:iam::1:user/plan is not authorized".into())
            )
        );
        let json = br#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"no"}"#;
        assert_eq!(
            parse_error_body(json),
            (Some("AccessDeniedException".into()), Some("no".into()))
        );
        assert_eq!(parse_error_body(b"<html>502</html>"), (None, None));
        assert_eq!(cut("abcdef", 3), "abc...");
    }

    #[test]
    fn an_error_says_its_code_status_and_message() {
        let denied = AwsError {
            operation: "CreateRole".into(),
            code: Some("AccessDenied".into()),
            message: "User: arn:aws:sts::1:assumed-role/landfall-plan/ci is not authorized".into(),
            status: Some(403),
            transient: false,
        };
        assert_eq!(
            denied.to_string(),
            "CreateRole failed: AccessDenied (HTTP 403): User: arn:aws:sts::1:assumed-role/\
             landfall-plan/ci is not authorized"
        );
        let bare = AwsError {
            code: None,
            message: "HTTP 502: <html>bad gateway</html>".into(),
            status: Some(502),
            ..denied.clone()
        };
        assert_eq!(
            bare.to_string(),
            "CreateRole failed: HTTP 502: <html>bad gateway</html>"
        );
        let unanswered = AwsError::other("DescribeVpcs", "timed out");
        assert_eq!(unanswered.to_string(), "DescribeVpcs failed: timed out");
    }

    #[test]
    fn throttling_codes_are_transient() {
        assert!(is_transient_code("TooManyRequestsException"));
        assert!(is_transient_code("ConcurrentModificationException"));
        assert!(!is_transient_code("EntityAlreadyExists"));
    }
}
