//! Schema version and migrations.
//!
//! A new file gets every table and the current version. An older file is migrated step by
//! step in one transaction; a newer one is refused, since this build cannot know what
//! the newer records mean.

use redb::{Database, ReadableTable, TableHandle, WriteTransaction};

use super::tables::*;
use super::{Result, StoreError};

/// Version 1: the first schema. Version 2: `lead_counts` (leads per status, for metrics and
/// the dashboard without a full scan), backfilled from the leads on migration.
pub const SCHEMA_VERSION: u32 = 2;
const VERSION_KEY: &str = "schema_version";

/// Opens every table so they exist in a new file (redb creates tables on first open).
fn create_all(txn: &WriteTransaction) -> Result<()> {
    macro_rules! create {
        ($t:ident) => {
            txn.open_table($t)?;
        };
    }
    crate::for_each_table!(create);
    Ok(())
}

fn read_version(txn: &WriteTransaction) -> Result<Option<u32>> {
    let exists = txn.list_tables()?.any(|t| t.name() == META.name());
    if !exists {
        return Ok(None);
    }
    let meta = txn.open_table(META)?;
    let Some(bytes) = meta.get(VERSION_KEY)? else {
        return Ok(None);
    };
    let raw: [u8; 4] =
        bytes.value().try_into().map_err(|_| StoreError::Decode("schema version is not 4 bytes".into()))?;
    Ok(Some(u32::from_le_bytes(raw)))
}

/// Brings a file to [`SCHEMA_VERSION`], or refuses a newer one.
pub fn migrate(db: &Database) -> Result<()> {
    migrate_to(db, SCHEMA_VERSION)
}

/// Migration steps; `step(n)` turns a version-`n` file into version `n + 1`.
fn step(txn: &WriteTransaction, from: u32) -> Result<()> {
    match from {
        1 => backfill_lead_counts(txn),
        other => Err(StoreError::Storage(format!("no migration from schema version {other}"))),
    }
}

fn backfill_lead_counts(txn: &WriteTransaction) -> Result<()> {
    let leads = txn.open_table(LEADS)?;
    let mut counts = std::collections::HashMap::<&'static str, u64>::new();
    for entry in leads.iter()? {
        let (_, bytes) = entry?;
        let lead: crate::domain::model::Lead = super::codec::decode(bytes.value())?;
        *counts.entry(lead.status.as_str()).or_default() += 1;
    }
    let mut table = txn.open_table(LEAD_COUNTS)?;
    for (status, n) in counts {
        table.insert(status, n)?;
    }
    Ok(())
}

pub(crate) fn migrate_to(db: &Database, target: u32) -> Result<()> {
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    let found = read_version(&txn)?;
    match found {
        Some(v) if v > target => return Err(StoreError::NewerSchema { found: v, supported: target }),
        Some(v) if v == target => {
            txn.abort()?;
            return Ok(());
        }
        Some(mut v) => {
            while v < target {
                step(&txn, v)?;
                v += 1;
            }
            create_all(&txn)?;
        }
        None => create_all(&txn)?,
    }
    txn.open_table(META)?.insert(VERSION_KEY, target.to_le_bytes().as_slice())?;
    txn.commit()?;
    Ok(())
}

/// Writes a version number as is; tests use it to fake files from other versions.
pub fn force_version(db: &Database, version: u32) -> Result<()> {
    let txn = db.begin_write()?;
    txn.open_table(META)?.insert(VERSION_KEY, version.to_le_bytes().as_slice())?;
    txn.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_file_is_migrated_with_backfilled_counts() {
        use crate::domain::model::{Lead, LeadStatus};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.redb");
        {
            let db = Database::create(&path).unwrap();
            migrate_to(&db, 1).unwrap();
            let txn = db.begin_write().unwrap();
            {
                // A version-1 file has no lead_counts table.
                txn.delete_table(LEAD_COUNTS).unwrap();
                let mut leads = txn.open_table(LEADS).unwrap();
                for (i, status) in
                    [LeadStatus::Submitted, LeadStatus::Submitted, LeadStatus::Partial].into_iter().enumerate()
                {
                    let lead = Lead { lead_id: uuid::Uuid::now_v7(), status, ..Default::default() };
                    leads.insert([i as u8; 16], super::super::codec::encode(&lead).unwrap().as_slice()).unwrap();
                }
            }
            txn.commit().unwrap();
        }
        let store = crate::store::Store::open(&path).unwrap();
        let counts = store
            .read(|r| {
                let t = r.open_table(LEAD_COUNTS)?;
                Ok((t.get("submitted")?.map(|g| g.value()), t.get("partial")?.map(|g| g.value())))
            })
            .unwrap();
        assert_eq!(counts, (Some(2), Some(1)));
    }

    #[test]
    fn new_file_gets_current_version_and_newer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.redb");
        {
            let db = Database::create(&path).unwrap();
            migrate(&db).unwrap();
            migrate(&db).unwrap(); // idempotent
            force_version(&db, SCHEMA_VERSION + 1).unwrap();
        }
        let err = crate::store::Store::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::NewerSchema { .. }));
        assert!(err.to_string().contains("newer crm-tracker"), "{err}");
    }
}
