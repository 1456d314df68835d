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
                let code = e.code().map(str::to_string);
                let transient = status.is_some_and(|s| s >= 500 || s == 429)
                    || code.as_deref().is_some_and(is_transient_code);
                AwsError {
                    operation: operation.to_string(),
                    message: e
                        .message()
                        .map(str::to_string)
                        .unwrap_or_else(|| code.clone().unwrap_or_else(|| e.to_string())),
                    code,
                    status,
                    transient,
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

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} failed: {code}: {}", self.operation, self.message),
            None => write!(f, "{} failed: {}", self.operation, self.message),
        }
    }
}

impl std::error::Error for AwsError {}

/// Retry policy: capped exponential backoff with full jitter.
const MAX_ATTEMPTS: u32 = 10;
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
    let mut attempt = 0;
    loop {
        match send().await {
            Ok(out) => return Ok(Created::Sent(out)),
            Err(err) => {
                let unanswered = matches!(
                    err,
                    SdkError::TimeoutError(_)
                        | SdkError::DispatchFailure(_)
                        | SdkError::ResponseError(_)
                );
                let err = AwsError::from_sdk(operation, err);
                attempt += 1;
                if !err.transient || attempt >= MAX_ATTEMPTS {
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
    fn throttling_codes_are_transient() {
        assert!(is_transient_code("TooManyRequestsException"));
        assert!(is_transient_code("ConcurrentModificationException"));
        assert!(!is_transient_code("EntityAlreadyExists"));
    }
}
