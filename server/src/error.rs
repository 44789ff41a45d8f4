//! One error type for every handler: `AppError` becomes the contract's
//! `{"error":{"code","message"}}` envelope with the right status, and logs its cause.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use wire::ErrorBody;

/// The result of every handler and every daemon call.
pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request names something wrong; `code` says what (e.g. `invalid_port`).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no session or token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a session, but not allowed (role, team, foreign origin).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource.
    #[error("{0}")]
    NotFound(String),
    /// 404 with a specific code the UI acts on (e.g. `image_not_found`: offer to pull it).
    #[error("{message}")]
    Missing { code: &'static str, message: String },
    /// 409: the resource is in a state that refuses the action.
    #[error("{0}")]
    Conflict(String),
    /// 413.
    #[error("{0}")]
    TooLarge(String),
    /// 429: too many failed attempts; try again after this many seconds.
    #[error("too many failed attempts: try again in {0} s")]
    TooManyAttempts(u64),
    /// 503: the daemon cannot be reached.
    #[error("the Docker daemon is unreachable: {0}")]
    DockerUnavailable(String),
    /// 502: the daemon answered with a failure berth does not map to a client error.
    #[error("the Docker daemon failed: {0}")]
    Docker(String),
    /// Any status with a specific code, for failures reported by someone else than the
    /// daemon itself (a registry that refuses credentials, a build step that fails...).
    #[error("{message}")]
    Coded {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// 500: a bug or an environment problem (database, disk). Logged, not shown in detail.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn coded(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Coded {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) | AppError::Missing { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::DockerUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Docker(_) => StatusCode::BAD_GATEWAY,
            AppError::Coded { status, .. } => *status,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Missing { code, .. } => code,
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge(_) => "too_large",
            AppError::TooManyAttempts(_) => "too_many_attempts",
            AppError::DockerUnavailable(_) => "docker_unavailable",
            AppError::Docker(_) => "docker_error",
            AppError::Coded { code, .. } => code,
            AppError::Internal(_) => "internal",
        }
    }

    /// The envelope a client receives for this error.
    pub fn body(&self) -> ErrorBody {
        let message = match self {
            // Internal details (SQL, paths) stay in the log.
            AppError::Internal(_) => {
                "berth hit an internal error; the server log has details".into()
            }
            other => other.to_string(),
        };
        ErrorBody::new(self.code(), message)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), "{self}");
        } else {
            tracing::debug!(code = self.code(), "{self}");
        }
        let mut resp = (status, Json(self.body())).into_response();
        if let AppError::TooManyAttempts(secs) = self {
            if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<bollard::errors::Error> for AppError {
    fn from(err: bollard::errors::Error) -> Self {
        use bollard::errors::Error as E;
        match err {
            E::DockerResponseServerError {
                status_code,
                message,
            } => from_daemon(status_code, message),
            // Nothing answered on the socket: the daemon is down or the socket is gone.
            E::SocketNotFoundError(path) => {
                AppError::DockerUnavailable(format!("no socket at {path}"))
            }
            e @ (E::HyperLegacyError { .. } | E::IOError { .. } | E::RequestTimeoutError) => {
                AppError::DockerUnavailable(e.to_string())
            }
            other => AppError::Docker(other.to_string()),
        }
    }
}

/// What berth answers for a daemon's error status. The daemon's own message is kept: it is
/// what a person can act on. Some of its answers say more than their status does: the
/// daemon 20.10 answers 500 for a container that "is not paused" or for a prefix that
/// names several objects, which are the client's doing, not a failure.
fn from_daemon(status: u16, message: String) -> AppError {
    let lower = message.to_ascii_lowercase();
    let ambiguous = lower.contains("ambiguous") || lower.contains("multiple ids found");
    if matches!(status, 400 | 500) && ambiguous {
        return AppError::bad_request("ambiguous", message);
    }
    const STATE_REFUSED: &[&str] = &["is not paused", "is already paused", "is not running"];
    if status == 500 && STATE_REFUSED.iter().any(|m| lower.contains(m)) {
        return AppError::Conflict(message);
    }
    match status {
        400 => AppError::bad_request("docker_bad_request", message),
        // A registry refused credentials the daemon presented (as pulls report it).
        401 => AppError::coded(StatusCode::FORBIDDEN, "registry_denied", message),
        // The daemon's 403 is about the request meeting what exists ("Pool overlaps with
        // other one on this address space", "has active endpoints"), not about who asks:
        // berth's own `forbidden` is for its roles and teams.
        403 => AppError::coded(StatusCode::CONFLICT, DOCKER_FORBIDDEN, message),
        404 => AppError::NotFound(message),
        409 => AppError::Conflict(message),
        _ => AppError::Docker(message),
    }
}

/// The code of a daemon's 403 (see [`from_daemon`]).
pub const DOCKER_FORBIDDEN: &str = "docker_forbidden";

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<JsonRejection> for AppError {
    fn from(rej: JsonRejection) -> Self {
        let status = rej.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return AppError::TooLarge(rej.body_text());
        }
        AppError::bad_request("invalid_json", rej.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rej: QueryRejection) -> Self {
        AppError::bad_request("invalid_query", rej.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(rej: PathRejection) -> Self {
        AppError::bad_request("invalid_path", rej.body_text())
    }
}

/// A JSON object body whose rejection answers with the contract's envelope.
///
/// Stricter than `axum::Json`: the body must be an object. serde's derived `Deserialize`
/// also takes a struct from a JSON array of its fields in order, so `[]` would become a
/// struct of defaults (`POST /api/images/prune` with `[]` ran a real prune). Request types
/// deny unknown fields; the message names the field's path (axum reports it through
/// `serde_path_to_error`).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> AppResult<Self> {
        if !json_content_type(req.headers()) {
            return Err(AppError::bad_request(
                "invalid_json",
                "Expected request with `Content-Type: application/json`",
            ));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_object(&body).map(JsonBody)
    }
}

/// The rejection of reading a body: too large (413), or broken off.
pub fn body_rejection(rej: BytesRejection) -> AppError {
    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge(rej.body_text())
    } else {
        AppError::bad_request("invalid_body", rej.body_text())
    }
}

/// Parse a request body that must be one JSON object (see [`JsonBody`]).
pub fn parse_object<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if let Some(b) = first.filter(|b| **b != b'{') {
        let kind = match b {
            b'[' => "an array",
            b'"' => "a string",
            b'n' => "null",
            b't' | b'f' => "a boolean",
            b'-' | b'0'..=b'9' => "a number",
            _ => "not JSON",
        };
        return Err(AppError::bad_request(
            "invalid_json",
            format!("the body must be a JSON object ({{...}}), not {kind}"),
        ));
    }
    axum::Json::<T>::from_bytes(body)
        .map(|axum::Json(v)| v)
        .map_err(AppError::from)
}

fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A query string whose rejection answers with the contract's envelope.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct QueryArgs<T>(pub T);

/// Path parameters whose rejection answers with the contract's envelope.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct PathArgs<T>(pub T);
