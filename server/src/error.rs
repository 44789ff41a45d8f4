//! One error type for every handler: `AppError` becomes the contract's
//! `{"error":{"code","message"}}` envelope with the right status, and logs its cause.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
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
            } => match status_code {
                400 => AppError::bad_request("docker_bad_request", message),
                401 | 403 => AppError::Forbidden(message),
                404 => AppError::NotFound(message),
                409 => AppError::Conflict(message),
                _ => AppError::Docker(message),
            },
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

/// A JSON body whose rejection answers with the contract's envelope.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct JsonBody<T>(pub T);

/// A query string whose rejection answers with the contract's envelope.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct QueryArgs<T>(pub T);

/// Path parameters whose rejection answers with the contract's envelope.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct PathArgs<T>(pub T);
