//! Dashboard users and their sessions. Sessions are stored under the SHA-256 of their id,
//! so a copy of the data file does not hand out live sessions.

use redb::{ReadTransaction, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::Result;
use super::codec::{decode, encode};
use super::tables::*;
use crate::domain::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct User {
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Session {
    pub username: String,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Creates a user, or replaces the password of an existing one.
pub fn put_user(txn: &WriteTransaction, user: &User) -> Result<()> {
    txn.open_table(USERS)?.insert(user.username.as_str(), encode(user)?.as_slice())?;
    Ok(())
}

/// True when nobody can reach the admin API or dashboard yet: no live token, no user.
pub fn nobody_can_log_in(txn: &ReadTransaction) -> Result<bool> {
    if !txn.open_table(USERS)?.is_empty()? {
        return Ok(false);
    }
    Ok(super::queries::list_tokens(txn)?.iter().all(|t| t.revoked_at.is_some()))
}

pub fn get_user(txn: &ReadTransaction, username: &str) -> Result<Option<User>> {
    match txn.open_table(USERS)?.get(username)? {
        Some(v) => Ok(Some(decode(v.value())?)),
        None => Ok(None),
    }
}

pub fn put_session(txn: &WriteTransaction, hash: Pair, session: &Session) -> Result<()> {
    txn.open_table(SESSIONS)?.insert(hash, encode(session)?.as_slice())?;
    Ok(())
}

pub fn get_session(txn: &ReadTransaction, hash: &Pair) -> Result<Option<Session>> {
    match txn.open_table(SESSIONS)?.get(*hash)? {
        Some(v) => Ok(Some(decode(v.value())?)),
        None => Ok(None),
    }
}

pub fn delete_session(txn: &WriteTransaction, hash: Pair) -> Result<()> {
    txn.open_table(SESSIONS)?.remove(hash)?;
    Ok(())
}

/// Drops expired sessions; returns how many.
pub fn prune_sessions(txn: &WriteTransaction, now: Timestamp) -> Result<usize> {
    let mut table = txn.open_table(SESSIONS)?;
    let mut n = 0;
    table.retain(|_, v| {
        let keep = decode::<Session>(v).map(|s| s.expires_at > now).unwrap_or(false);
        if !keep {
            n += 1;
        }
        keep
    })?;
    Ok(n)
}
