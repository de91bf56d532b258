//! Admin API tokens: random, shown once, stored as SHA-256, revocable.

use uuid::Uuid;

use super::{App, AppResult, secrets};
use crate::domain::model::{ApiToken, Id};
use crate::domain::site::ValidationError;
use crate::domain::time::Timestamp;
use crate::store::admin;

impl App {
    /// Creates a token; returns its record and the secret (never stored, never shown again).
    pub async fn create_token(&self, name: &str) -> AppResult<(ApiToken, String)> {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ValidationError { field: "name".into(), message: "must be 1 to 100 characters".into() }.into());
        }
        let secret = secrets::generate("crm_");
        let hash = secrets::hash(&secret);
        let token = ApiToken {
            token_id: Uuid::now_v7(),
            name,
            token_hash: secrets::hash_hex(&secret),
            created_at: Timestamp::now(),
            revoked_at: None,
        };
        let record = token.clone();
        self.write(move |txn| admin::create_token(txn, &record, hash)).await?;
        self.cache_token(hash, token.token_id);
        Ok((token, secret))
    }

    pub async fn revoke_token(&self, id: Id) -> AppResult<ApiToken> {
        let now = Timestamp::now();
        // Forget it first: no request may authenticate with it from here on, even before
        // the revocation commits.
        self.forget_token(&id);
        let token = self.write(move |txn| admin::revoke_token(txn, &id, now)).await?;
        Ok(token)
    }

    /// Replaces every token with this name by a new one (used by `--demo`).
    pub async fn replace_token(&self, name: &str) -> AppResult<(ApiToken, String)> {
        let now = Timestamp::now();
        let owned = name.to_string();
        self.write(move |txn| admin::revoke_tokens_named(txn, &owned, now)).await?;
        self.forget_revoked_tokens().await?;
        self.create_token(name).await
    }

    /// Drops revoked tokens from the in-memory cache, after revocations whose ids are not
    /// known here.
    pub async fn forget_revoked_tokens(&self) -> AppResult<()> {
        let tokens = self.read(crate::store::queries::list_tokens).await?;
        for t in tokens.iter().filter(|t| t.revoked_at.is_some()) {
            self.forget_token(&t.token_id);
        }
        Ok(())
    }
}
