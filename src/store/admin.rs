//! Writes behind the admin API: clients, forms, fields, mappings, tokens. Each function
//! runs inside a writer job and checks everything it can refuse *before* writing (the
//! writer's invariant: a refused job leaves the shared transaction untouched).

use redb::{ReadableTable, WriteTransaction};
use serde::{Serialize, de::DeserializeOwned};

use super::codec::{decode, encode};
use super::tables::*;
use super::{Result, StoreError, leads};
use crate::domain::model::{ApiToken, Client, Field, FieldMapping, Form, Id, Lead};
use crate::domain::time::Timestamp;

pub fn load<T: DeserializeOwned>(table: &impl ReadableTable<Id16, &'static [u8]>, id: &Id) -> Result<Option<T>> {
    match table.get(*id.as_bytes())? {
        Some(bytes) => Ok(Some(decode(bytes.value())?)),
        None => Ok(None),
    }
}

fn put<T: Serialize>(
    txn: &WriteTransaction,
    def: redb::TableDefinition<Id16, &[u8]>,
    id: &Id,
    record: &T,
) -> Result<()> {
    txn.open_table(def)?.insert(*id.as_bytes(), encode(record)?.as_slice())?;
    Ok(())
}

fn get<T: DeserializeOwned>(
    txn: &WriteTransaction,
    def: redb::TableDefinition<Id16, &[u8]>,
    id: &Id,
) -> Result<Option<T>> {
    load(&txn.open_table(def)?, id)
}

/// Children of a parent in a `parent ++ child` index.
fn children(txn: &WriteTransaction, def: redb::TableDefinition<Pair, ()>, parent: &Id) -> Result<Vec<Id>> {
    let table = txn.open_table(def)?;
    let ids = table
        .range(prefix_range(parent.as_bytes()))?
        .map(|e| e.map(|(k, _)| Id::from_bytes(second_half(&k.value()))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids)
}

/// Every change to a site's forms or settings bumps its revision (the script's ETag).
fn touch_client(txn: &WriteTransaction, client_id: &Id, now: Timestamp) -> Result<Client> {
    let mut client: Client = get(txn, CLIENTS, client_id)?.ok_or(StoreError::NotFound("client"))?;
    client.revision += 1;
    client.updated_at = now;
    put(txn, CLIENTS, client_id, &client)?;
    Ok(client)
}

// ---- clients -------------------------------------------------------------------------

pub fn create_client(txn: &WriteTransaction, client: &Client, key_hash: Pair) -> Result<()> {
    let mut by_domain = txn.open_table(CLIENTS_BY_DOMAIN)?;
    if by_domain.get(client.domain.as_str())?.is_some() {
        return Err(StoreError::Conflict(format!("a site with domain {} already exists", client.domain)));
    }
    by_domain.insert(client.domain.as_str(), *client.client_id.as_bytes())?;
    txn.open_table(CLIENT_KEYS)?.insert(key_hash, *client.client_id.as_bytes())?;
    put(txn, CLIENTS, &client.client_id, client)
}

/// Applies `change` to a client; a changed domain must stay unique.
pub fn update_client(
    txn: &WriteTransaction,
    id: &Id,
    now: Timestamp,
    change: impl FnOnce(&mut Client),
) -> Result<Client> {
    let before: Client = get(txn, CLIENTS, id)?.ok_or(StoreError::NotFound("client"))?;
    let mut after = before.clone();
    change(&mut after);
    let mut by_domain = txn.open_table(CLIENTS_BY_DOMAIN)?;
    if after.domain != before.domain {
        if by_domain.get(after.domain.as_str())?.is_some() {
            return Err(StoreError::Conflict(format!("a site with domain {} already exists", after.domain)));
        }
        by_domain.remove(before.domain.as_str())?;
        by_domain.insert(after.domain.as_str(), *id.as_bytes())?;
    }
    after.revision = before.revision + 1;
    after.updated_at = now;
    put(txn, CLIENTS, id, &after)?;
    Ok(after)
}

/// Replaces a client's secret key (the old one stops working at commit).
pub fn rotate_client_key(txn: &WriteTransaction, id: &Id, old_hash: Pair, new_hash: Pair) -> Result<()> {
    let mut keys = txn.open_table(CLIENT_KEYS)?;
    keys.remove(old_hash)?;
    keys.insert(new_hash, *id.as_bytes())?;
    Ok(())
}

/// Deletes a site and everything that belongs to it: forms, fields, mappings, leads,
/// events, discovered forms and its keys.
pub fn delete_client(txn: &WriteTransaction, id: &Id, now: Timestamp) -> Result<Client> {
    let client: Client = get(txn, CLIENTS, id)?.ok_or(StoreError::NotFound("client"))?;
    for form in children(txn, FORMS_BY_CLIENT, id)? {
        delete_form_inner(txn, &form, false, now)?;
    }
    // Every event page of the site goes at once, before the leads, so deleting each lead
    // finds no pages left to rewrite (it still drops its lead index entries).
    txn.open_table(EVENT_PAGES)?.retain_in(prefix_range(id.as_bytes()), |_, _| false)?;
    for lead in children(txn, LEADS_BY_CLIENT, id)? {
        leads::delete_lead_keeping_jobs(txn, lead, false, now)?;
    }
    leads::retire_deleted_leads_upserts(txn, |job| job.client_id == *id, now)?;
    {
        let mut seen = txn.open_table(SEEN_EVENT_IDS)?;
        seen.retain_in(prefix_range(id.as_bytes()), |_, _| false)?;
        let mut discovered = txn.open_table(DISCOVERED_FORMS)?;
        let (start, end) = discovered_bounds(id.as_bytes());
        let keys: Vec<Vec<u8>> = discovered
            .range(start.as_slice()..end.as_slice())?
            .map(|e| e.map(|(k, _)| k.value().to_vec()))
            .collect::<Result<_, _>>()?;
        for key in keys {
            discovered.remove(key.as_slice())?;
        }
    }
    txn.open_table(CLIENTS_BY_DOMAIN)?.remove(client.domain.as_str())?;
    let mut hash = [0u8; 32];
    if hex::decode_to_slice(&client.secret_key_hash, &mut hash).is_ok() {
        txn.open_table(CLIENT_KEYS)?.remove(hash)?;
    }
    txn.open_table(CLIENTS)?.remove(*id.as_bytes())?;
    Ok(client)
}

// ---- forms ---------------------------------------------------------------------------

/// One configured form per selector and site: two would both match the same page form and
/// which one's formId and fields apply would be arbitrary.
fn ensure_selector_free(txn: &WriteTransaction, form: &Form) -> Result<()> {
    for id in children(txn, FORMS_BY_CLIENT, &form.client_id)? {
        if id == form.form_id {
            continue;
        }
        let Some(other) = get::<Form>(txn, FORMS, &id)? else { continue };
        // Alternative selectors match page forms too, so every selector of one form counts
        // against every selector of the other.
        let selectors = |f: &Form| -> Vec<String> {
            std::iter::once(&f.form_selector).chain(&f.alternative_selectors).map(|s| s.trim().to_string()).collect()
        };
        let theirs = selectors(&other);
        if let Some(shared) = selectors(form).into_iter().find(|s| theirs.contains(s)) {
            return Err(StoreError::Conflict(format!(
                "this site already has a form with selector {shared:?} (formId {}); edit that one instead",
                other.form_id
            )));
        }
    }
    Ok(())
}

pub fn create_form(txn: &WriteTransaction, form: &Form, now: Timestamp) -> Result<()> {
    ensure_selector_free(txn, form)?;
    touch_client(txn, &form.client_id, now)?;
    txn.open_table(FORMS_BY_CLIENT)?.insert(pair(form.client_id.as_bytes(), form.form_id.as_bytes()), ())?;
    put(txn, FORMS, &form.form_id, form)
}

pub fn update_form(txn: &WriteTransaction, id: &Id, now: Timestamp, change: impl FnOnce(&mut Form)) -> Result<Form> {
    let mut form: Form = get(txn, FORMS, id)?.ok_or(StoreError::NotFound("form"))?;
    change(&mut form);
    ensure_selector_free(txn, &form)?;
    form.updated_at = now;
    touch_client(txn, &form.client_id, now)?;
    put(txn, FORMS, id, &form)?;
    Ok(form)
}

pub fn delete_form(txn: &WriteTransaction, id: &Id, now: Timestamp) -> Result<Form> {
    delete_form_inner(txn, id, true, now)
}

fn delete_form_inner(txn: &WriteTransaction, id: &Id, touch: bool, now: Timestamp) -> Result<Form> {
    let form: Form = get(txn, FORMS, id)?.ok_or(StoreError::NotFound("form"))?;
    for field in children(txn, FIELDS_BY_FORM, id)? {
        delete_field_inner(txn, &field)?;
    }
    txn.open_table(FORMS_BY_CLIENT)?.remove(pair(form.client_id.as_bytes(), id.as_bytes()))?;
    txn.open_table(FORMS)?.remove(*id.as_bytes())?;
    if touch {
        touch_client(txn, &form.client_id, now)?;
        // Leads keep existing; they just no longer point at the form (SET NULL).
        let mut leads = txn.open_table(LEADS)?;
        for lead_id in children(txn, LEADS_BY_CLIENT, &form.client_id)? {
            if let Some(mut lead) = load::<Lead>(&leads, &lead_id)?
                && lead.form_id == Some(*id)
            {
                lead.form_id = None;
                leads.insert(*lead_id.as_bytes(), encode(&lead)?.as_slice())?;
            }
        }
    }
    Ok(form)
}

// ---- fields and mappings -------------------------------------------------------------

fn client_of_form(txn: &WriteTransaction, form_id: &Id) -> Result<Id> {
    let form: Form = get(txn, FORMS, form_id)?.ok_or(StoreError::NotFound("form"))?;
    Ok(form.client_id)
}

pub fn create_field(txn: &WriteTransaction, field: &Field, now: Timestamp) -> Result<()> {
    let client = client_of_form(txn, &field.form_id)?;
    touch_client(txn, &client, now)?;
    txn.open_table(FIELDS_BY_FORM)?.insert(pair(field.form_id.as_bytes(), field.field_id.as_bytes()), ())?;
    put(txn, FIELDS, &field.field_id, field)
}

pub fn update_field(txn: &WriteTransaction, id: &Id, now: Timestamp, change: impl FnOnce(&mut Field)) -> Result<Field> {
    let mut field: Field = get(txn, FIELDS, id)?.ok_or(StoreError::NotFound("field"))?;
    change(&mut field);
    field.updated_at = now;
    let client = client_of_form(txn, &field.form_id)?;
    touch_client(txn, &client, now)?;
    put(txn, FIELDS, id, &field)?;
    Ok(field)
}

pub fn delete_field(txn: &WriteTransaction, id: &Id, now: Timestamp) -> Result<Field> {
    let field: Field = get(txn, FIELDS, id)?.ok_or(StoreError::NotFound("field"))?;
    let client = client_of_form(txn, &field.form_id)?;
    delete_field_inner(txn, id)?;
    touch_client(txn, &client, now)?;
    Ok(field)
}

fn delete_field_inner(txn: &WriteTransaction, id: &Id) -> Result<()> {
    let field: Field = get(txn, FIELDS, id)?.ok_or(StoreError::NotFound("field"))?;
    if let Some(mapping) = txn.open_table(MAPPING_BY_FIELD)?.remove(*id.as_bytes())? {
        txn.open_table(MAPPINGS)?.remove(mapping.value())?;
    }
    txn.open_table(FIELDS_BY_FORM)?.remove(pair(field.form_id.as_bytes(), id.as_bytes()))?;
    txn.open_table(FIELDS)?.remove(*id.as_bytes())?;
    Ok(())
}

fn client_of_field(txn: &WriteTransaction, field_id: &Id) -> Result<Id> {
    let field: Field = get(txn, FIELDS, field_id)?.ok_or(StoreError::NotFound("field"))?;
    client_of_form(txn, &field.form_id)
}

pub fn create_mapping(txn: &WriteTransaction, mapping: &FieldMapping, now: Timestamp) -> Result<()> {
    let client = client_of_field(txn, &mapping.field_id)?;
    let mut by_field = txn.open_table(MAPPING_BY_FIELD)?;
    if by_field.get(*mapping.field_id.as_bytes())?.is_some() {
        return Err(StoreError::Conflict(
            "this field already has a mapping; update it with PUT /v1/mappings/{mappingId}".into(),
        ));
    }
    by_field.insert(*mapping.field_id.as_bytes(), *mapping.mapping_id.as_bytes())?;
    drop(by_field);
    touch_client(txn, &client, now)?;
    put(txn, MAPPINGS, &mapping.mapping_id, mapping)
}

pub fn update_mapping(
    txn: &WriteTransaction,
    id: &Id,
    now: Timestamp,
    change: impl FnOnce(&mut FieldMapping),
) -> Result<FieldMapping> {
    let mut mapping: FieldMapping = get(txn, MAPPINGS, id)?.ok_or(StoreError::NotFound("mapping"))?;
    change(&mut mapping);
    mapping.updated_at = now;
    let client = client_of_field(txn, &mapping.field_id)?;
    touch_client(txn, &client, now)?;
    put(txn, MAPPINGS, id, &mapping)?;
    Ok(mapping)
}

pub fn delete_mapping(txn: &WriteTransaction, id: &Id, now: Timestamp) -> Result<FieldMapping> {
    let mapping: FieldMapping = get(txn, MAPPINGS, id)?.ok_or(StoreError::NotFound("mapping"))?;
    let client = client_of_field(txn, &mapping.field_id)?;
    txn.open_table(MAPPING_BY_FIELD)?.remove(*mapping.field_id.as_bytes())?;
    txn.open_table(MAPPINGS)?.remove(*id.as_bytes())?;
    touch_client(txn, &client, now)?;
    Ok(mapping)
}

// ---- tokens --------------------------------------------------------------------------

pub fn create_token(txn: &WriteTransaction, token: &ApiToken, hash: Pair) -> Result<()> {
    txn.open_table(TOKENS_BY_HASH)?.insert(hash, *token.token_id.as_bytes())?;
    put(txn, TOKENS, &token.token_id, token)
}

/// Revokes a token: it stops authenticating at commit; the record stays for the audit list.
pub fn revoke_token(txn: &WriteTransaction, id: &Id, now: Timestamp) -> Result<ApiToken> {
    let mut token: ApiToken = get(txn, TOKENS, id)?.ok_or(StoreError::NotFound("token"))?;
    if token.revoked_at.is_none() {
        let mut hash = [0u8; 32];
        if hex::decode_to_slice(&token.token_hash, &mut hash).is_ok() {
            txn.open_table(TOKENS_BY_HASH)?.remove(hash)?;
        }
        token.revoked_at = Some(now);
        put(txn, TOKENS, id, &token)?;
    }
    Ok(token)
}

/// Revokes every live token with this name (the demo replaces its token on each start).
pub fn revoke_tokens_named(txn: &WriteTransaction, name: &str, now: Timestamp) -> Result<usize> {
    let ids: Vec<Id> = {
        let table = txn.open_table(TOKENS)?;
        let mut ids = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let token: ApiToken = decode(v.value())?;
            if token.name == name && token.revoked_at.is_none() {
                ids.push(Id::from_bytes(k.value()));
            }
        }
        ids
    };
    for id in &ids {
        revoke_token(txn, id, now)?;
    }
    Ok(ids.len())
}
