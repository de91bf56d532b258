//! Schema version and migrations.
//!
//! A new file gets every table and the current version. An older file is migrated step by
//! step in one transaction; a newer one is refused, since this build cannot know what
//! the newer records mean.

use redb::{Database, ReadableTable, TableHandle, WriteTransaction};

use super::tables::*;
use super::{Result, StoreError};

/// Version 1: the first schema. Version 2: `lead_counts` (leads per status, for metrics and
/// the dashboard without a full scan), backfilled from the leads on migration. Version 3:
/// events in pages (`event_pages`) instead of one entry each plus a client index. Version 4:
/// `leads_by_visitor_form`, backfilled from the leads.
pub const SCHEMA_VERSION: u32 = 4;

/// Version 2's event tables, read once by the migration to version 3 and then deleted.
const V2_EVENTS: redb::TableDefinition<Id16, &[u8]> = redb::TableDefinition::new("events");
const V2_EVENTS_BY_CLIENT: redb::TableDefinition<Pair, ()> = redb::TableDefinition::new("events_by_client");
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
    version_in(&txn.open_table(META)?)
}

/// The schema version recorded in a file's meta table, if any (also read by offline
/// commands on a read-only open).
pub fn version_in(meta: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<Option<u32>> {
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
        2 => events_into_pages(txn),
        3 => backfill_visitor_forms(txn),
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

/// Indexes every lead by its visitor and form; the newest lead wins a shared key (leads
/// are in id order, which is creation order).
fn backfill_visitor_forms(txn: &WriteTransaction) -> Result<()> {
    let leads = txn.open_table(LEADS)?;
    let mut index = txn.open_table(LEADS_BY_VISITOR_FORM)?;
    for entry in leads.iter()? {
        let (id, bytes) = entry?;
        let lead: crate::domain::model::Lead = super::codec::decode(bytes.value())?;
        if let Some(key) = super::leads::visitor_form_key_of(&lead) {
            index.insert(key, id.value())?;
        }
    }
    Ok(())
}

/// Moves every event into its site's pages, in id order (the order pages need).
fn events_into_pages(txn: &WriteTransaction) -> Result<()> {
    let names: Vec<String> = txn.list_tables()?.map(|t| t.name().to_string()).collect();
    if !names.iter().any(|n| n == V2_EVENTS.name()) {
        return Ok(());
    }
    {
        let events = txn.open_table(V2_EVENTS)?;
        let by_client = txn.open_table(V2_EVENTS_BY_CLIENT)?;
        let mut pages = txn.open_table(EVENT_PAGES)?;
        let mut writer = super::event_pages::PageWriter::default();
        for entry in by_client.iter()? {
            let (key, _) = entry?;
            let key = key.value();
            let id = second_half(&key);
            let Some(bytes) = events.get(id)? else { continue };
            let event: crate::domain::model::Event = super::codec::decode(bytes.value())?;
            let lead = event.lead_id.map(|l| *l.as_bytes());
            let body = super::codec::encode(&super::event_pages::EventBody::from_event(event))?;
            writer.push(&mut pages, &key[..16].try_into().expect("16 of 32"), &id, lead.as_ref(), &body)?;
        }
        writer.finish(&mut pages)?;
    }
    txn.delete_table(V2_EVENTS)?;
    txn.delete_table(V2_EVENTS_BY_CLIENT)?;
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
    fn version_2_events_move_into_pages() {
        use crate::domain::model::{Event, EventType};
        use crate::store::queries::{EventFilter, list_events};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.redb");
        let client = uuid::Uuid::now_v7();
        let mut ids = Vec::new();
        {
            let db = Database::create(&path).unwrap();
            migrate_to(&db, 2).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut clients = txn.open_table(CLIENTS).unwrap();
                let record = crate::domain::model::Client { client_id: client, ..Default::default() };
                clients.insert(*client.as_bytes(), super::super::codec::encode(&record).unwrap().as_slice()).unwrap();
                let mut events = txn.open_table(V2_EVENTS).unwrap();
                let mut by_client = txn.open_table(V2_EVENTS_BY_CLIENT).unwrap();
                for i in 0..3 {
                    let id = uuid::Uuid::now_v7();
                    let event = Event {
                        event_id: id,
                        client_id: client,
                        event_type: EventType::FormSubmission,
                        form_ref: Some(format!("f{i}")),
                        ..Default::default()
                    };
                    events.insert(*id.as_bytes(), super::super::codec::encode(&event).unwrap().as_slice()).unwrap();
                    by_client.insert(pair(client.as_bytes(), id.as_bytes()), ()).unwrap();
                    ids.push(id);
                }
            }
            txn.commit().unwrap();
        }
        let store = crate::store::Store::open(&path).unwrap();
        let filter = EventFilter { client_id: Some(client), ..Default::default() };
        let page = store.read(|r| list_events(r, &filter, None, 10)).unwrap();
        let listed: Vec<_> = page.items.iter().map(|e| (e.event_id, e.form_ref.clone().unwrap())).collect();
        assert_eq!(listed, vec![(ids[2], "f2".into()), (ids[1], "f1".into()), (ids[0], "f0".into())]);
        let names: Vec<String> = store.read(|r| Ok(r.list_tables()?.map(|t| t.name().to_string()).collect())).unwrap();
        assert!(!names.iter().any(|n| n == "events" || n == "events_by_client"), "{names:?}");
    }

    #[test]
    fn version_3_leads_are_indexed_by_visitor_and_form() {
        use crate::domain::model::Lead;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.redb");
        let client = uuid::Uuid::now_v7();
        let (older, newer, other) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        {
            let db = Database::create(&path).unwrap();
            migrate_to(&db, 3).unwrap();
            let txn = db.begin_write().unwrap();
            {
                // A version-3 file has no such table.
                txn.delete_table(LEADS_BY_VISITOR_FORM).unwrap();
                let mut leads = txn.open_table(LEADS).unwrap();
                for (id, visitor, form) in [(older, "v1", "contact"), (newer, "v1", "contact"), (other, "v2", "quote")]
                {
                    let lead = Lead {
                        lead_id: id,
                        client_id: client,
                        visitor_id: Some(visitor.into()),
                        form_ref: Some(form.into()),
                        ..Default::default()
                    };
                    leads.insert(*id.as_bytes(), super::super::codec::encode(&lead).unwrap().as_slice()).unwrap();
                }
            }
            txn.commit().unwrap();
        }
        let store = crate::store::Store::open(&path).unwrap();
        // The key is the form on its page; these leads have no page.
        let found = |visitor: &str, form: &str| {
            let key = visitor_form_key(client.as_bytes(), visitor, &format!("{form}\n"));
            store
                .read(|r| Ok(r.open_table(LEADS_BY_VISITOR_FORM)?.get(key)?.map(|v| uuid::Uuid::from_bytes(v.value()))))
        };
        assert_eq!(found("v1", "contact").unwrap(), Some(newer), "the newest lead of the visitor on the form");
        assert_eq!(found("v2", "quote").unwrap(), Some(other));
        assert_eq!(found("v2", "contact").unwrap(), None);
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
