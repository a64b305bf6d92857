//! The error type shared by the services, with its translated message and
//! its JSON form (`{"error": {"code", "message"}}`), which every door that
//! answers JSON (the API, the ActivityPub endpoints) sends the same way.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    /// The path exists, not with this method.
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMedia,
    RateLimited,
    Internal,
    /// Another instance could not be reached or answered badly.
    BadGateway,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Conflict => 409,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMedia => 415,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
            ErrorKind::BadGateway => 502,
        }
    }
}

/// A failure with a stable machine code (`post_too_long`), arguments for the
/// translated message, and for internal errors the cause (logged, never shown).
#[derive(Debug)]
pub struct AppError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub cause: Option<String>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, code: &'static str) -> AppError {
        AppError {
            kind,
            code,
            args: Vec::new(),
            cause: None,
        }
    }
    pub fn bad_request(code: &'static str) -> AppError {
        AppError::new(ErrorKind::BadRequest, code)
    }
    pub fn unauthorized(code: &'static str) -> AppError {
        AppError::new(ErrorKind::Unauthorized, code)
    }
    pub fn forbidden(code: &'static str) -> AppError {
        AppError::new(ErrorKind::Forbidden, code)
    }
    pub fn not_found() -> AppError {
        AppError::new(ErrorKind::NotFound, "not_found")
    }
    pub fn conflict(code: &'static str) -> AppError {
        AppError::new(ErrorKind::Conflict, code)
    }
    pub fn internal<E: fmt::Display>(e: E) -> AppError {
        let mut err = AppError::new(ErrorKind::Internal, "internal");
        err.cause = Some(e.to_string());
        err
    }
    /// Another instance failed; `detail` is shown (it names the remote
    /// problem, never ours).
    pub fn remote(code: &'static str, detail: impl ToString) -> AppError {
        AppError::new(ErrorKind::BadGateway, code).with("detail", detail)
    }
    /// Adds a named argument for the message template.
    pub fn with(mut self, name: &'static str, value: impl ToString) -> AppError {
        self.args.push((name, value.to_string()));
        self
    }
}

/// The message of `err` in `lang`.
pub fn message(err: &AppError, lang: crate::i18n::Lang) -> String {
    crate::i18n::tf(
        lang,
        &format!("error.{}", err.code),
        &err.args
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>(),
    )
}

/// `err` as a JSON response with its status; internal errors are logged.
pub fn json_response(err: &AppError, lang: crate::i18n::Lang) -> axum::response::Response {
    use axum::response::IntoResponse;
    if err.kind == ErrorKind::Internal {
        tracing::error!(error = %err, "internal error");
    }
    let status = axum::http::StatusCode::from_u16(err.kind.status())
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({"error": {"code": err.code, "message": message(err, lang)}});
    (status, axum::Json(body)).into_response()
}

/// Refuses text holding a NUL character: PostgreSQL cannot store one, and
/// SQLite would keep what PostgreSQL refuses, so both refuse it the same way.
pub fn refuse_nul(field: &'static str, text: &str) -> AppResult<()> {
    if text.contains('\0') {
        return Err(AppError::bad_request("field_invalid").with("field", field));
    }
    Ok(())
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        for (k, v) in &self.args {
            write!(f, " {k}={v}")?;
        }
        if let Some(c) = &self.cause {
            write!(f, ": {c}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AppError {}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        match e {
            diesel::result::Error::NotFound => AppError::not_found(),
            // Two requests made the same thing at once; the database kept
            // one.
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => AppError::conflict("already_exists"),
            other => AppError::internal(other),
        }
    }
}
