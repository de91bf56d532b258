//! Authentication of admin requests: `Authorization: Bearer <token>`, or a dashboard
//! session cookie (with a CSRF check on state-changing methods).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::app::App;
use crate::domain::model::Id;

/// Who made an admin request.
#[derive(Debug, Clone)]
pub enum Principal {
    Token(Id),
    User(String),
}

/// Extracting this from a request authenticates it; handlers that take it are admin-only.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

impl FromRequestParts<App> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        if let Some(token) = bearer(parts) {
            return app.authenticate_token(token).map(|id| Admin(Principal::Token(id))).ok_or_else(|| {
                // The two kinds of secret are easy to swap; say which one was sent.
                let message = if token.trim().starts_with("sk_") {
                    "this is a site's secret key (sk_…), which goes in X-API-Key on /v1/track; \
                         the admin API needs an admin token (crm_…, from `crm-tracker token create`)"
                } else {
                    "the bearer token is not valid (revoked or mistyped)"
                };
                ApiError::Unauthorized(message.into())
            });
        }
        if let Some(user) = super::session::authenticate(parts, app).await? {
            return Ok(Admin(Principal::User(user)));
        }
        // `Authorization: crm_…`: the token without its scheme, an easy slip with curl.
        if parts.headers.get(header::AUTHORIZATION).is_some() {
            return Err(ApiError::Unauthorized(
                "the Authorization header is not a bearer token: send it as Authorization: Bearer <token>".into(),
            ));
        }
        Err(ApiError::Unauthorized(
            "authentication required: send Authorization: Bearer <token> (create one with `crm-tracker token create`) or log in".into(),
        ))
    }
}
