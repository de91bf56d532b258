//! Dashboard users.

use super::{App, AppResult};
use crate::domain::site::ValidationError;
use crate::domain::time::Timestamp;
use crate::store::StoreError;
use crate::store::accounts::{self, User};

impl App {
    /// Creates a user or resets their password. Hashing (argon2id) runs on the blocking
    /// pool: it is deliberately slow.
    pub async fn create_user(&self, username: &str, password: &str) -> AppResult<()> {
        let username = username.trim().to_string();
        let ok = !username.is_empty()
            && username.len() <= 64
            && username.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
        if !ok {
            return Err(ValidationError {
                field: "username".into(),
                message: "use 1 to 64 letters, digits, '.', '_', '-' or '@'".into(),
            }
            .into());
        }
        if password.chars().count() < 10 {
            return Err(
                ValidationError { field: "password".into(), message: "must be at least 10 characters".into() }.into()
            );
        }
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || crate::http::session::hash_password(&password))
            .await
            .map_err(|e| StoreError::Storage(e.to_string()))?
            .map_err(StoreError::Storage)?;
        let user = User { username, password_hash: hash, created_at: Timestamp::now() };
        self.write(move |txn| accounts::put_user(txn, &user)).await?;
        Ok(())
    }
}
