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

/// Creates a user, or replaces the password of an existing one. Either way the user's
/// sessions end in the same transaction: a password is changed because the old one may be
/// known to someone else, whose logged-in browser must not outlive it.
pub fn put_user(txn: &WriteTransaction, user: &User) -> Result<()> {
    txn.open_table(USERS)?.insert(user.username.as_str(), encode(user)?.as_slice())?;
    delete_sessions_of(txn, &user.username)
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

/// Deletes a user's sessions: they stay logged in otherwise, sessions being checked
/// against their own record only.
pub fn delete_sessions_of(txn: &WriteTransaction, username: &str) -> Result<()> {
    txn.open_table(SESSIONS)?.retain(|_, v| decode::<Session>(v).map(|s| s.username != username).unwrap_or(false))?;
    Ok(())
}

/// Deletes a user and their sessions; whether the user existed.
pub fn delete_user(txn: &WriteTransaction, username: &str) -> Result<bool> {
    let existed = txn.open_table(USERS)?.remove(username)?.is_some();
    delete_sessions_of(txn, username)?;
    Ok(existed)
}

/// Where `serve --demo` notes the admin token it made, so that a later start without
/// `--demo` on the same file can retire the demo's credentials.
const DEMO_TOKEN_KEY: &str = "demo_token";

pub fn set_demo_token(txn: &WriteTransaction, token: Option<&Id16>) -> Result<()> {
    let mut meta = txn.open_table(META)?;
    match token {
        Some(id) => meta.insert(DEMO_TOKEN_KEY, id.as_slice())?,
        None => meta.remove(DEMO_TOKEN_KEY)?,
    };
    Ok(())
}

pub fn demo_token(txn: &ReadTransaction) -> Result<Option<Id16>> {
    Ok(txn.open_table(META)?.get(DEMO_TOKEN_KEY)?.and_then(|v| v.value().try_into().ok()))
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
