//! Typed reads. All run inside one MVCC read transaction and never block the writer.
//!
//! Lists are newest first with an opaque cursor (the id of the last item returned). A
//! scan stops after [`SCAN_BUDGET`] entries even when a selective filter has not filled the
//! page yet, and returns a cursor to continue from, so no request scans without bound.

use redb::{ReadTransaction, ReadableTable};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashMap};

use super::codec::decode;
use super::event_pages::{self, NewestFirst};
use super::tables::*;
use super::{Result, StoreError};
use crate::domain::model::*;
use crate::domain::time::Timestamp;

pub const SCAN_BUDGET: usize = 100_000;

/// One page of a list, answered as `{"items": […], "nextCursor": …}`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Id>,
}

fn get<T: DeserializeOwned>(
    txn: &ReadTransaction,
    def: redb::TableDefinition<Id16, &[u8]>,
    id: &Id,
) -> Result<Option<T>> {
    let table = txn.open_table(def)?;
    match table.get(*id.as_bytes())? {
        Some(bytes) => Ok(Some(decode(bytes.value())?)),
        None => Ok(None),
    }
}

fn children(txn: &ReadTransaction, def: redb::TableDefinition<Pair, ()>, parent: &Id) -> Result<Vec<Id>> {
    let table = txn.open_table(def)?;
    let ids = table
        .range(prefix_range(parent.as_bytes()))?
        .map(|e| e.map(|(k, _)| Id::from_bytes(second_half(&k.value()))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids)
}

/// The smallest (or largest) UUIDv7 of a millisecond: bounds for time filters on v7 keys.
pub fn v7_bound(ts: Timestamp, upper: bool) -> Id16 {
    let mut b = if upper { [0xffu8; 16] } else { [0u8; 16] };
    let ms = ts.millis().max(0) as u64;
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b
}

/// Fills a page from ids in list order: loads each record from `table` and hands them to
/// [`fill_page`].
fn collect_page<T: DeserializeOwned>(
    ids: Box<dyn Iterator<Item = Result<Id16>> + '_>,
    table: &impl ReadableTable<Id16, &'static [u8]>,
    cursor: Option<Id>,
    limit: usize,
    accept: impl Fn(&T) -> bool,
) -> Result<Page<T>> {
    let records = ids.map(|id| {
        let id = id?;
        let record = match table.get(id)? {
            Some(bytes) => Some(decode(bytes.value())?),
            None => None,
        };
        Ok((Id::from_bytes(id), record))
    });
    fill_page(records, cursor, limit, accept)
}

/// Fills a page from `(id, record)` in list order (a missing record is skipped but counts
/// as looked at): keeps those `accept` takes, skips the cursor itself, and stops at `limit`
/// items or [`SCAN_BUDGET`] entries looked at. There is a next cursor only when the scan
/// stopped early and entries remain.
fn fill_page<T>(
    mut records: impl Iterator<Item = Result<(Id, Option<T>)>>,
    cursor: Option<Id>,
    limit: usize,
    accept: impl Fn(&T) -> bool,
) -> Result<Page<T>> {
    let mut items = Vec::new();
    let mut scanned = 0;
    let mut last = None;
    for entry in records.by_ref() {
        let (id, record) = entry?;
        if cursor == Some(id) {
            continue;
        }
        scanned += 1;
        last = Some(id);
        if let Some(record) = record
            && accept(&record)
        {
            items.push(record);
        }
        if items.len() >= limit || scanned >= SCAN_BUDGET {
            break;
        }
    }
    let more = (items.len() >= limit || scanned >= SCAN_BUDGET) && records.next().is_some();
    Ok(Page { next_cursor: if more { last } else { None }, items })
}

pub fn get_client(txn: &ReadTransaction, id: &Id) -> Result<Option<Client>> {
    get(txn, CLIENTS, id)
}

/// The site, or `NotFound("client")` for a request that named one that does not exist.
pub fn require_client(txn: &ReadTransaction, id: &Id) -> Result<Client> {
    get_client(txn, id)?.ok_or(StoreError::NotFound("client"))
}

pub fn client_by_domain(txn: &ReadTransaction, domain: &str) -> Result<Option<Client>> {
    let id = txn.open_table(CLIENTS_BY_DOMAIN)?.get(domain)?.map(|g| Id::from_bytes(g.value()));
    match id {
        Some(id) => get_client(txn, &id),
        None => Ok(None),
    }
}

pub fn list_clients(txn: &ReadTransaction) -> Result<Vec<Client>> {
    let table = txn.open_table(CLIENTS)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (_, v) = entry?;
        out.push(decode::<Client>(v.value())?);
    }
    out.sort_by(|a, b| a.domain.cmp(&b.domain));
    Ok(out)
}

pub fn get_form(txn: &ReadTransaction, id: &Id) -> Result<Option<Form>> {
    get(txn, FORMS, id)
}

pub fn list_forms(txn: &ReadTransaction, client: &Id) -> Result<Vec<Form>> {
    let mut out = Vec::new();
    for id in children(txn, FORMS_BY_CLIENT, client)? {
        if let Some(form) = get_form(txn, &id)? {
            out.push(form);
        }
    }
    Ok(out)
}

pub fn get_field(txn: &ReadTransaction, id: &Id) -> Result<Option<Field>> {
    get(txn, FIELDS, id)
}

pub fn list_fields(txn: &ReadTransaction, form: &Id) -> Result<Vec<Field>> {
    let mut out = Vec::new();
    for id in children(txn, FIELDS_BY_FORM, form)? {
        if let Some(field) = get_field(txn, &id)? {
            out.push(field);
        }
    }
    out.sort_by_key(|f| (f.order, f.created_at));
    Ok(out)
}

pub fn get_mapping(txn: &ReadTransaction, id: &Id) -> Result<Option<FieldMapping>> {
    get(txn, MAPPINGS, id)
}

pub fn mapping_for_field(txn: &ReadTransaction, field: &Id) -> Result<Option<FieldMapping>> {
    let id = txn.open_table(MAPPING_BY_FIELD)?.get(*field.as_bytes())?.map(|g| Id::from_bytes(g.value()));
    match id {
        Some(id) => get_mapping(txn, &id),
        None => Ok(None),
    }
}

/// A site with its configured forms, their fields and mappings: what the script and the
/// lead rules need.
#[derive(Debug, Clone)]
pub struct ClientBundle {
    pub client: Client,
    pub forms: Vec<FormBundle>,
}

#[derive(Debug, Clone)]
pub struct FormBundle {
    pub form: Form,
    pub fields: Vec<(Field, Option<FieldMapping>)>,
}

pub fn client_bundle(txn: &ReadTransaction, id: &Id) -> Result<Option<ClientBundle>> {
    let Some(client) = get_client(txn, id)? else { return Ok(None) };
    let mut forms = Vec::new();
    for form in list_forms(txn, id)? {
        let mut fields = Vec::new();
        for field in list_fields(txn, &form.form_id)? {
            let mapping = mapping_for_field(txn, &field.field_id)?;
            fields.push((field, mapping));
        }
        forms.push(FormBundle { form, fields });
    }
    Ok(Some(ClientBundle { client, forms }))
}

pub fn all_client_bundles(txn: &ReadTransaction) -> Result<Vec<ClientBundle>> {
    let mut out = Vec::new();
    for client in list_clients(txn)? {
        if let Some(bundle) = client_bundle(txn, &client.client_id)? {
            out.push(bundle);
        }
    }
    Ok(out)
}

// ---- tokens --------------------------------------------------------------------------

pub fn list_tokens(txn: &ReadTransaction) -> Result<Vec<ApiToken>> {
    let table = txn.open_table(TOKENS)?;
    let mut out = Vec::new();
    for entry in table.iter()?.rev() {
        let (_, v) = entry?;
        out.push(decode::<ApiToken>(v.value())?);
    }
    Ok(out)
}

// ---- leads ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    pub client_id: Option<Id>,
    pub status: Option<LeadStatus>,
    pub quality: Option<LeadQuality>,
    /// Exact (normalised) email.
    pub email: Option<String>,
    /// Case-insensitive substring of email or names or company.
    pub q: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl LeadFilter {
    fn accepts(&self, lead: &Lead) -> bool {
        if self.status.is_some_and(|s| s != lead.status) || self.quality.is_some_and(|q| q != lead.quality) {
            return false;
        }
        if self.email.as_ref().is_some_and(|e| lead.email.as_ref() != Some(e)) {
            return false;
        }
        if self.client_id.is_some_and(|c| c != lead.client_id) {
            return false;
        }
        if let Some(q) = &self.q {
            let q = q.to_lowercase();
            let hit = [&lead.email, &lead.name, &lead.first_name, &lead.last_name, &lead.company, &lead.phone]
                .iter()
                .any(|v| v.as_ref().is_some_and(|v| v.to_lowercase().contains(&q)));
            if !hit {
                return false;
            }
        }
        true
    }
}

pub fn get_lead(txn: &ReadTransaction, id: &Id) -> Result<Option<Lead>> {
    get(txn, LEADS, id)
}

/// Leads newest first. `cursor` is the id of the last lead of the previous page.
pub fn list_leads(txn: &ReadTransaction, filter: &LeadFilter, cursor: Option<Id>, limit: usize) -> Result<Page<Lead>> {
    let leads = txn.open_table(LEADS)?;
    let lower = filter.from.map(|t| v7_bound(t, false)).unwrap_or([0u8; 16]);
    let mut upper = filter.to.map(|t| v7_bound(t, true)).unwrap_or([0xffu8; 16]);
    if let Some(c) = cursor {
        // Strictly before the cursor.
        upper = upper.min(*c.as_bytes());
    }
    let ids: Box<dyn Iterator<Item = Result<Id16>>> = match (&filter.email, filter.client_id) {
        (Some(email), Some(client)) => {
            let table = txn.open_table(LEADS_BY_EMAIL)?;
            let start = email_key(client.as_bytes(), email, Some(&lower));
            let end = email_key(client.as_bytes(), email, Some(&upper));
            let mut found: Vec<Id16> = Vec::new();
            for e in table.range(start.as_slice()..=end.as_slice())? {
                let (k, _) = e?;
                let k = k.value();
                let mut id = [0u8; 16];
                id.copy_from_slice(&k[k.len() - 16..]);
                found.push(id);
            }
            found.sort_unstable();
            Box::new(found.into_iter().rev().map(Ok))
        }
        (_, Some(client)) => {
            let table = txn.open_table(LEADS_BY_CLIENT)?;
            let range = table.range(pair(client.as_bytes(), &lower)..=pair(client.as_bytes(), &upper))?;
            Box::new(range.rev().map(|e| e.map(|(k, _)| second_half(&k.value())).map_err(StoreError::from)))
        }
        _ => Box::new(leads.range(lower..=upper)?.rev().map(|e| e.map(|(k, _)| k.value()).map_err(StoreError::from))),
    };
    collect_page(ids, &leads, cursor, limit, |lead: &Lead| filter.accepts(lead))
}

pub fn lead_counts(txn: &ReadTransaction) -> Result<Vec<(&'static str, u64)>> {
    let table = txn.open_table(LEAD_COUNTS)?;
    let mut out = Vec::new();
    for status in LeadStatus::ALL {
        out.push((status.as_str(), table.get(status.as_str())?.map(|g| g.value()).unwrap_or(0)));
    }
    Ok(out)
}

// ---- events --------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub client_id: Option<Id>,
    pub lead_id: Option<Id>,
    pub event_type: Option<EventType>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Events newest first (by arrival). `from`/`to` bound the arrival time.
pub fn list_events(
    txn: &ReadTransaction,
    filter: &EventFilter,
    cursor: Option<Id>,
    limit: usize,
) -> Result<Page<Event>> {
    let pages = txn.open_table(EVENT_PAGES)?;
    let lower = filter.from.map(|t| v7_bound(t, false)).unwrap_or([0u8; 16]);
    let mut upper = filter.to.map(|t| v7_bound(t, true)).unwrap_or([0xffu8; 16]);
    if let Some(c) = cursor {
        upper = upper.min(*c.as_bytes());
    }
    let accept = |event: &Event| {
        filter.event_type.is_none_or(|t| t == event.event_type) && filter.client_id.is_none_or(|c| c == event.client_id)
    };
    let events: Box<dyn Iterator<Item = Result<Event>> + '_> = match (filter.lead_id, filter.client_id) {
        (Some(lead), _) => {
            let Some(client) = get::<Lead>(txn, LEADS, &lead)?.map(|l| l.client_id) else {
                return Ok(Page { items: Vec::new(), next_cursor: None });
            };
            let table = txn.open_table(EVENTS_BY_LEAD)?;
            let ids: Vec<Id16> = table
                .range(pair(lead.as_bytes(), &lower)..=pair(lead.as_bytes(), &upper))?
                .rev()
                .map(|e| e.map(|(k, _)| second_half(&k.value())))
                .collect::<std::result::Result<_, _>>()?;
            let pages = &pages;
            Box::new(ids.into_iter().filter_map(move |id| event_pages::get(pages, client.as_bytes(), &id).transpose()))
        }
        (None, Some(client)) => Box::new(NewestFirst::new(&pages, client.as_bytes(), lower, upper)?),
        (None, None) => {
            let mut sites = Vec::new();
            for client in list_clients(txn)? {
                sites.push(NewestFirst::new(&pages, client.client_id.as_bytes(), lower, upper)?);
            }
            Box::new(MergedNewestFirst { sites })
        }
    };
    let records = events.map(|event| event.map(|e| (e.event_id, Some(e))));
    let mut page = fill_page(records, cursor, limit, accept)?;
    // A deleted form's events keep no link to it (SET NULL, original §2), resolved here
    // rather than by rewriting every event page of the site when a form is deleted: form
    // ids are never reused, so a missing form is a deleted one.
    let forms = txn.open_table(FORMS)?;
    for event in &mut page.items {
        if let Some(form) = event.form_id
            && forms.get(*form.as_bytes())?.is_none()
        {
            event.form_id = None;
        }
    }
    Ok(page)
}

/// Several sites' events merged, newest first.
struct MergedNewestFirst<'t> {
    sites: Vec<NewestFirst<'t>>,
}

impl Iterator for MergedNewestFirst<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        let mut best: Option<(usize, Id16)> = None;
        for (i, site) in self.sites.iter_mut().enumerate() {
            match site.peek_id() {
                Err(e) => return Some(Err(e)),
                Ok(Some(id)) if best.is_none_or(|(_, b)| id > b) => best = Some((i, id)),
                Ok(_) => {}
            }
        }
        let (i, _) = best?;
        self.sites[i].next()
    }
}

// ---- discovered forms and stats ------------------------------------------------------

pub fn discovered_forms(txn: &ReadTransaction, client: &Id) -> Result<Vec<DiscoveredForm>> {
    let table = txn.open_table(DISCOVERED_FORMS)?;
    let (start, end) = discovered_bounds(client.as_bytes());
    let mut out = Vec::new();
    for entry in table.range(start.as_slice()..end.as_slice())? {
        let (_, v) = entry?;
        out.push(decode::<DiscoveredForm>(v.value())?);
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.last_seen_at));
    Ok(out)
}

pub fn discovered_form(txn: &ReadTransaction, client: &Id, selector: &str) -> Result<Option<DiscoveredForm>> {
    let mut key = client.as_bytes().to_vec();
    key.extend_from_slice(selector.as_bytes());
    match txn.open_table(DISCOVERED_FORMS)?.get(key.as_slice())? {
        Some(v) => Ok(Some(decode(v.value())?)),
        None => Ok(None),
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayCount {
    pub date: String,
    pub submitted: u64,
    pub partial: u64,
    pub chat_inquiry: u64,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversion {
    pub partial: u64,
    pub upgraded: u64,
    pub rate: f64,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopForm {
    pub form_id: Option<Id>,
    pub form_name: String,
    pub leads: u64,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub leads: u64,
    pub events: u64,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    pub days: Vec<DayCount>,
    pub partial_to_submitted: Conversion,
    pub top_forms: Vec<TopForm>,
    pub totals: Totals,
}

/// Leads per day by status over the last `days` days, partial → submitted conversion, top
/// forms and totals, for one site or all.
pub fn overview(txn: &ReadTransaction, client: Option<Id>, days: u32, now: Timestamp) -> Result<Overview> {
    const DAY_MS: i64 = 86_400_000;
    let today_start = Timestamp(now.millis() - now.millis().rem_euclid(DAY_MS));
    let since = Timestamp(today_start.millis() - (days.max(1) as i64 - 1) * DAY_MS);
    let mut by_day: BTreeMap<String, DayCount> = (0..days.max(1))
        .map(|i| {
            let date = Timestamp(since.millis() + i as i64 * DAY_MS).date_string();
            (date.clone(), DayCount { date, ..Default::default() })
        })
        .collect();
    let filter = LeadFilter { client_id: client, from: Some(since), ..Default::default() };
    let mut conversion = Conversion::default();
    let mut forms: HashMap<(Option<Id>, String), u64> = HashMap::new();
    let mut totals = Totals::default();
    let mut cursor = None;
    loop {
        let page = list_leads(txn, &filter, cursor, 1000)?;
        for lead in &page.items {
            totals.leads += 1;
            if let Some(day) = by_day.get_mut(&lead.created_at.date_string()) {
                match lead.status {
                    LeadStatus::Submitted => day.submitted += 1,
                    LeadStatus::Partial => day.partial += 1,
                    LeadStatus::ChatInquiry => day.chat_inquiry += 1,
                }
            }
            if lead.source == "form_interaction" {
                conversion.partial += 1;
                if lead.status == LeadStatus::Submitted {
                    conversion.upgraded += 1;
                }
            }
            let label = lead.form_ref.clone().unwrap_or_else(|| "(unnamed form)".into());
            *forms.entry((lead.form_id, label)).or_default() += 1;
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    if conversion.partial > 0 {
        conversion.rate = conversion.upgraded as f64 / conversion.partial as f64;
    }
    let mut top: Vec<TopForm> = forms
        .into_iter()
        .map(|((form_id, label), leads)| {
            let name = form_id.and_then(|id| get_form(txn, &id).ok().flatten()).map(|f| f.form_name).unwrap_or(label);
            TopForm { form_id, form_name: name, leads }
        })
        .collect();
    top.sort_by(|a, b| b.leads.cmp(&a.leads).then(a.form_name.cmp(&b.form_name)));
    top.truncate(5);
    let lower = v7_bound(since, false);
    let pages = txn.open_table(EVENT_PAGES)?;
    totals.events = match client {
        Some(c) => event_pages::count_from(&pages, c.as_bytes(), &lower)?,
        None => {
            let mut n = 0;
            for c in list_clients(txn)? {
                n += event_pages::count_from(&pages, c.client_id.as_bytes(), &lower)?;
            }
            n
        }
    };
    Ok(Overview { days: by_day.into_values().collect(), partial_to_submitted: conversion, top_forms: top, totals })
}
