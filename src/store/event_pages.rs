//! Events are stored in pages, not one B-tree entry each.
//!
//! A page holds a site's events from one write transaction, in id order, up to
//! [`PAGE_BYTES`]; its key is `client ++ first event id`. Ingest then costs one B-tree insert
//! per page instead of two per event (the event and its client index entry), which is most
//! of what the single writer thread spends; events by (client, time) are simply the pages
//! in key order.
//!
//! The writer gives events their ids ([`IdClock`]), strictly increasing, so pages never
//! overlap: the page holding an event is the last page of its site whose key is not after
//! the event's id. Deleting events rewrites their pages (erasure and retention are rare next
//! to ingest).
//!
//! Page layout: a format byte, then per event `id (16 bytes) ++ lead id (16 bytes, zeros for
//! none) ++ body length (u32 LE) ++ body`, where the body is an [`EventBody`] in the record
//! encoding of [`super::codec`]. The lead id sits outside the body because the writer only
//! learns it (when the event joins a stored lead) after the body was encoded elsewhere.

use redb::{ReadableTable, Table};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use uuid::Uuid;

use super::codec::decode;
use super::tables::*;
use super::{Result, StoreError};
use crate::domain::model::{Event, EventType, Id};
use crate::domain::time::Timestamp;

const PAGE_FORMAT: u8 = 1;
/// A page is closed before it would pass this size: large enough that ingest writes few
/// entries, small enough that reading one event (a lead's timeline) decodes little, and
/// just under 64 KiB so that with redb's leaf header it still fits a 64 KiB region
/// (one byte more would take a 128 KiB one).
pub const PAGE_BYTES: usize = 64 * 1024 - 256;
const ENTRY_HEADER: usize = 16 + 16 + 4;
const NO_LEAD: Id16 = [0u8; 16];

/// An event as stored in its page: everything but the ids the page key and entry hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EventBody {
    pub client_event_id: Id,
    pub form_id: Option<Id>,
    pub form_ref: Option<String>,
    pub event_type: EventType,
    pub session_id: Option<String>,
    pub visitor_id: Option<String>,
    pub payload: Map<String, Value>,
    pub timestamp: Timestamp,
    pub created_at: Timestamp,
}

impl EventBody {
    pub fn into_event(self, event_id: Id, client_id: Id, lead_id: Option<Id>) -> Event {
        Event {
            event_id,
            client_event_id: self.client_event_id,
            client_id,
            form_id: self.form_id,
            form_ref: self.form_ref,
            lead_id,
            event_type: self.event_type,
            session_id: self.session_id,
            visitor_id: self.visitor_id,
            payload: self.payload,
            timestamp: self.timestamp,
            created_at: self.created_at,
        }
    }

    pub fn from_event(event: Event) -> EventBody {
        EventBody {
            client_event_id: event.client_event_id,
            form_id: event.form_id,
            form_ref: event.form_ref,
            event_type: event.event_type,
            session_id: event.session_id,
            visitor_id: event.visitor_id,
            payload: event.payload,
            timestamp: event.timestamp,
            created_at: event.created_at,
        }
    }
}

/// Hands out event ids: UUIDv7, strictly increasing even if the clock steps back.
#[derive(Debug, Default)]
pub struct IdClock {
    last: u128,
    /// The clock as last read: one reading serves a whole commit, whose events arrive
    /// within the same few milliseconds (reading it per event showed in ingest profiles).
    now: u128,
}

impl IdClock {
    /// Starts after the newest id already stored.
    pub fn after(newest: Option<Id16>) -> IdClock {
        IdClock { last: newest.map_or(0, u128::from_be_bytes), now: 0 }
    }

    /// Reads the clock; the ids given out until the next tick are after this moment.
    pub fn tick(&mut self) {
        self.now = Uuid::now_v7().as_u128();
    }

    pub fn next_id(&mut self) -> Id16 {
        if self.now == 0 {
            self.tick();
        }
        // Past the last id, +1 lands in the random bits, so the result is still a v7 UUID.
        self.last = self.now.max(self.last + 1);
        self.last.to_be_bytes()
    }
}

/// One event of a page, its body still encoded.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub id: Id16,
    pub lead: Option<Id16>,
    pub body: &'a [u8],
}

impl Entry<'_> {
    pub fn body(&self) -> Result<EventBody> {
        decode(self.body)
    }

    pub fn event(&self, client: &Id16) -> Result<Event> {
        Ok(self.body()?.into_event(Id::from_bytes(self.id), Id::from_bytes(*client), self.lead.map(Id::from_bytes)))
    }
}

/// The entries of a page, in id order.
pub fn entries(page: &[u8]) -> Result<Vec<Entry<'_>>> {
    let corrupt = || StoreError::Decode("event page is cut short".into());
    let Some((&format, mut rest)) = page.split_first() else {
        return Err(StoreError::Decode("empty event page".into()));
    };
    if format != PAGE_FORMAT {
        return Err(StoreError::Decode(format!("unknown event page format {format}")));
    }
    let mut out = Vec::new();
    while !rest.is_empty() {
        if rest.len() < ENTRY_HEADER {
            return Err(corrupt());
        }
        let (head, tail) = rest.split_at(ENTRY_HEADER);
        let id: Id16 = head[..16].try_into().map_err(|_| corrupt())?;
        let lead: Id16 = head[16..32].try_into().map_err(|_| corrupt())?;
        let len = u32::from_le_bytes(head[32..].try_into().map_err(|_| corrupt())?) as usize;
        if tail.len() < len {
            return Err(corrupt());
        }
        let (body, next) = tail.split_at(len);
        out.push(Entry { id, lead: (lead != NO_LEAD).then_some(lead), body });
        rest = next;
    }
    Ok(out)
}

fn push_entry(page: &mut Vec<u8>, id: &Id16, lead: Option<&Id16>, body: &[u8]) {
    if page.is_empty() {
        page.push(PAGE_FORMAT);
    }
    page.extend_from_slice(id);
    page.extend_from_slice(lead.unwrap_or(&NO_LEAD));
    page.extend_from_slice(&(body.len() as u32).to_le_bytes());
    page.extend_from_slice(body);
}

/// Builds pages during one transaction: events are appended per site and a page is
/// written when full or at [`PageWriter::finish`].
#[derive(Default)]
pub struct PageWriter {
    open: HashMap<Id16, (Id16, Vec<u8>)>,
    /// Buffers of pages already written, reused so a page is not copied as it grows nor
    /// allocated afresh (the writer keeps one `PageWriter` for its life).
    spare: Vec<Vec<u8>>,
}

impl PageWriter {
    pub fn push(
        &mut self,
        table: &mut Table<'_, Pair, &'static [u8]>,
        client: &Id16,
        id: &Id16,
        lead: Option<&Id16>,
        body: &[u8],
    ) -> Result<()> {
        if let Some((first, page)) = self.open.get(client)
            && page.len() + ENTRY_HEADER + body.len() > PAGE_BYTES
        {
            table.insert(pair(client, first), page.as_slice())?;
            if let Some((_, page)) = self.open.remove(client) {
                self.keep(page);
            }
        }
        let spare = &mut self.spare;
        let (_, page) = self
            .open
            .entry(*client)
            .or_insert_with(|| (*id, spare.pop().unwrap_or_else(|| Vec::with_capacity(PAGE_BYTES))));
        push_entry(page, id, lead, body);
        Ok(())
    }

    /// Writes the pages still open; call once, before the transaction commits.
    pub fn finish(&mut self, table: &mut Table<'_, Pair, &'static [u8]>) -> Result<()> {
        let mut open = std::mem::take(&mut self.open);
        let mut written = Ok(());
        for (client, (first, page)) in open.drain() {
            if written.is_ok() {
                written = table.insert(pair(&client, &first), page.as_slice()).map(drop);
            }
            self.keep(page);
        }
        self.open = open;
        Ok(written?)
    }

    /// Forgets pages not written (a failed transaction).
    pub fn reset(&mut self) {
        let mut open = std::mem::take(&mut self.open);
        for (_, (_, page)) in open.drain() {
            self.keep(page);
        }
        self.open = open;
    }

    fn keep(&mut self, mut page: Vec<u8>) {
        // A few buffers cover the sites of one transaction; more would only hold memory.
        if self.spare.len() < 8 {
            page.clear();
            self.spare.push(page);
        }
    }
}

/// The key of the page that holds (or would hold) `client`'s event `id`.
fn page_key_of(table: &impl ReadableTable<Pair, &'static [u8]>, client: &Id16, id: &Id16) -> Result<Option<Pair>> {
    let found = table.range(pair(client, &[0u8; 16])..=pair(client, id))?.next_back();
    Ok(match found {
        Some(entry) => Some(entry?.0.value()),
        None => None,
    })
}

/// One stored event, by its site and id.
pub fn get(table: &impl ReadableTable<Pair, &'static [u8]>, client: &Id16, id: &Id16) -> Result<Option<Event>> {
    let Some(key) = page_key_of(table, client, id)? else { return Ok(None) };
    let Some(page) = table.get(key)? else { return Ok(None) };
    match entries(page.value())?.iter().find(|e| &e.id == id) {
        Some(entry) => Ok(Some(entry.event(client)?)),
        None => Ok(None),
    }
}

/// Removes `client`'s events with these ids, rewriting each page they are in once.
/// Returns how many were removed.
pub fn remove(table: &mut Table<'_, Pair, &'static [u8]>, client: &Id16, ids: &[Id16]) -> Result<usize> {
    let mut by_page: std::collections::BTreeMap<Pair, Vec<Id16>> = Default::default();
    for id in ids {
        if let Some(key) = page_key_of(table, client, id)? {
            by_page.entry(key).or_default().push(*id);
        }
    }
    let mut removed = 0;
    for (key, doomed) in by_page {
        let kept = {
            let Some(page) = table.get(key)? else { continue };
            let mut kept = Vec::new();
            for entry in entries(page.value())? {
                if doomed.contains(&entry.id) {
                    removed += 1;
                } else {
                    push_entry(&mut kept, &entry.id, entry.lead.as_ref(), entry.body);
                }
            }
            kept
        };
        // The key may now be before the first remaining event; lookups only need it to be
        // after the previous page and not after this page's events, which still holds.
        if kept.is_empty() {
            table.remove(key)?;
        } else {
            table.insert(key, kept.as_slice())?;
        }
    }
    Ok(removed)
}

/// Removes up to `max_pages` pages' worth of `client`'s events stored before `cutoff`,
/// oldest first, with their lead index entries. `last_id` bounds the scan: no event stored
/// before `cutoff` has a later id. Returns how many were removed and whether any may remain.
pub fn expire(
    pages: &mut Table<'_, Pair, &'static [u8]>,
    by_lead: &mut Table<'_, Pair, ()>,
    client: &Id16,
    cutoff: Timestamp,
    last_id: &Id16,
    max_pages: usize,
) -> Result<(usize, bool)> {
    let keys: Vec<Pair> = pages
        .range(pair(client, &[0u8; 16])..=pair(client, last_id))?
        .take(max_pages + 1)
        .map(|e| e.map(|(k, _)| k.value()))
        .collect::<std::result::Result<_, _>>()?;
    let more = keys.len() > max_pages;
    let mut removed = 0;
    for key in keys.into_iter().take(max_pages) {
        let (kept, gone) = {
            let Some(page) = pages.get(key)? else { continue };
            let mut kept = Vec::new();
            let mut gone = Vec::new();
            for entry in entries(page.value())? {
                if entry.body()?.created_at < cutoff {
                    gone.push((entry.id, entry.lead));
                } else {
                    push_entry(&mut kept, &entry.id, entry.lead.as_ref(), entry.body);
                }
            }
            (kept, gone)
        };
        if gone.is_empty() {
            // Events are stored in time order: this page and all later ones are kept.
            return Ok((removed, false));
        }
        for (id, lead) in &gone {
            if let Some(lead) = lead {
                by_lead.remove(pair(lead, id))?;
            }
        }
        removed += gone.len();
        if kept.is_empty() {
            pages.remove(key)?;
        } else {
            pages.insert(key, kept.as_slice())?;
            return Ok((removed, false));
        }
    }
    Ok((removed, more))
}

/// `client`'s events with ids in `lower..=upper`, newest first, decoded as they are reached.
pub struct NewestFirst<'t> {
    pages: redb::Range<'t, Pair, &'static [u8]>,
    client: Id16,
    lower: Id16,
    upper: Id16,
    /// The current page's entries in range, oldest first (popped from the back).
    pending: Vec<(Id16, Option<Id16>, Vec<u8>)>,
    done: bool,
}

impl<'t> NewestFirst<'t> {
    pub fn new(
        table: &'t impl ReadableTable<Pair, &'static [u8]>,
        client: &Id16,
        lower: Id16,
        upper: Id16,
    ) -> Result<Self> {
        Ok(NewestFirst {
            pages: table.range(pair(client, &[0u8; 16])..=pair(client, &upper))?,
            client: *client,
            lower,
            upper,
            pending: Vec::new(),
            done: false,
        })
    }

    fn refill(&mut self) -> Result<()> {
        while self.pending.is_empty() && !self.done {
            let Some(entry) = self.pages.next_back() else {
                self.done = true;
                break;
            };
            let (key, page) = entry?;
            let first = second_half(&key.value());
            for e in entries(page.value())? {
                if e.id >= self.lower && e.id <= self.upper {
                    self.pending.push((e.id, e.lead, e.body.to_vec()));
                }
            }
            // Pages before this one hold only older events.
            if first <= self.lower {
                self.done = true;
            }
        }
        Ok(())
    }

    /// The id of the next event, without decoding it.
    pub fn peek_id(&mut self) -> Result<Option<Id16>> {
        self.refill()?;
        Ok(self.pending.last().map(|(id, _, _)| *id))
    }
}

impl Iterator for NewestFirst<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = self.refill() {
            self.done = true;
            self.pending.clear();
            return Some(Err(e));
        }
        let (id, lead, body) = self.pending.pop()?;
        Some(Entry { id, lead, body: &body }.event(&self.client))
    }
}

/// How many of `client`'s events have ids from `lower` on.
pub fn count_from(table: &impl ReadableTable<Pair, &'static [u8]>, client: &Id16, lower: &Id16) -> Result<u64> {
    let start = page_key_of(table, client, lower)?.unwrap_or(pair(client, lower));
    let mut n = 0;
    for entry in table.range(start..=pair(client, &[0xffu8; 16]))? {
        let (_, page) = entry?;
        n += entries(page.value())?.iter().filter(|e| &e.id >= lower).count() as u64;
    }
    Ok(n)
}

/// The newest event id in the file (to start an [`IdClock`] after it).
pub fn newest_id(txn: &redb::ReadTransaction) -> Result<Option<Id16>> {
    let table = txn.open_table(EVENT_PAGES)?;
    let mut newest: Option<Id16> = None;
    let mut from = [0u8; 32];
    // One step per site: its last page, then on to the next site's keys.
    loop {
        let Some(first) = table.range(from..)?.next() else { break };
        let client: Id16 = first?.0.value()[..16].try_into().expect("16 of 32 bytes");
        if let Some(last) = table.range(prefix_range(&client))?.next_back() {
            let (_, page) = last?;
            if let Some(e) = entries(page.value())?.last() {
                newest = newest.max(Some(e.id));
            }
        }
        let Some(next) = u128::from_be_bytes(client).checked_add(1) else { break };
        from = pair(&next.to_be_bytes(), &[0u8; 16]);
    }
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::codec::encode;

    fn body(n: u8) -> EventBody {
        EventBody { form_ref: Some(format!("form-{n}")), ..Default::default() }
    }

    #[test]
    fn pages_round_trip_and_find_each_event() {
        let store = Store::in_memory().unwrap();
        let client = [7u8; 16];
        let other = [9u8; 16];
        let mut clock = IdClock::default();
        let mut ids = Vec::new();
        let txn = store.database().unwrap().begin_write().unwrap();
        {
            let mut table = txn.open_table(EVENT_PAGES).unwrap();
            let mut writer = PageWriter::default();
            // Big bodies, so the events span several pages.
            for n in 0..40u8 {
                let id = clock.next_id();
                let mut b = body(n);
                b.payload.insert("pad".into(), Value::String("x".repeat(5000)));
                let lead = (n % 2 == 0).then_some([n + 1; 16]);
                writer.push(&mut table, &client, &id, lead.as_ref(), &encode(&b).unwrap()).unwrap();
                writer.push(&mut table, &other, &clock.next_id(), None, &encode(&body(n)).unwrap()).unwrap();
                ids.push(id);
            }
            writer.finish(&mut table).unwrap();
            assert!(table.range(prefix_range(&client)).unwrap().count() > 2, "several pages");

            for (n, id) in ids.iter().enumerate() {
                let e = get(&table, &client, id).unwrap().unwrap();
                assert_eq!(e.form_ref, Some(format!("form-{n}")));
                assert_eq!(e.event_id.as_bytes(), id);
                assert_eq!(e.lead_id, (n % 2 == 0).then(|| Id::from_bytes([n as u8 + 1; 16])));
            }
            let newest: Vec<Id16> = NewestFirst::new(&table, &client, [0; 16], [0xff; 16])
                .unwrap()
                .map(|e| *e.unwrap().event_id.as_bytes())
                .collect();
            assert_eq!(newest, ids.iter().rev().copied().collect::<Vec<_>>());
            let window: Vec<Id16> = NewestFirst::new(&table, &client, ids[5], ids[9])
                .unwrap()
                .map(|e| *e.unwrap().event_id.as_bytes())
                .collect();
            assert_eq!(window, ids[5..=9].iter().rev().copied().collect::<Vec<_>>());
            assert_eq!(count_from(&table, &client, &ids[30]).unwrap(), 10);

            assert_eq!(remove(&mut table, &client, &[ids[0], ids[17], ids[39]]).unwrap(), 3);
            assert!(get(&table, &client, &ids[17]).unwrap().is_none());
            assert!(get(&table, &client, &ids[18]).unwrap().is_some());
            assert_eq!(NewestFirst::new(&table, &client, [0; 16], [0xff; 16]).unwrap().count(), 37);
            assert_eq!(NewestFirst::new(&table, &other, [0; 16], [0xff; 16]).unwrap().count(), 40);
        }
        txn.commit().unwrap();
    }

    #[test]
    fn ids_keep_increasing_when_the_clock_does_not() {
        let future = (Uuid::now_v7().as_u128() + (1u128 << 100)).to_be_bytes();
        let mut clock = IdClock::after(Some(future));
        let a = clock.next_id();
        let b = clock.next_id();
        assert!(a > future && b > a);
        assert_eq!(Uuid::from_bytes(b).get_version_num(), 7);
    }

    #[test]
    fn ids_follow_the_clock_from_tick_to_tick() {
        let mut clock = IdClock::default();
        let before = Uuid::now_v7().as_u128() >> 80;
        let first = clock.next_id();
        std::thread::sleep(std::time::Duration::from_millis(3));
        clock.tick();
        let later = clock.next_id();
        let ms = |id: Id16| u128::from_be_bytes(id) >> 80;
        assert!(ms(first) >= before, "an unticked clock reads the time itself");
        assert!(ms(later) >= ms(first) + 3, "a tick moves the ids to the new time");
        assert_eq!(Uuid::from_bytes(later).get_version_num(), 7);
    }

    #[test]
    fn a_damaged_page_is_an_error_not_a_panic() {
        let mut page = Vec::new();
        push_entry(&mut page, &[1; 16], None, b"abc");
        assert!(entries(&page[..page.len() - 1]).is_err());
        assert!(entries(&[]).is_err());
        assert!(entries(&[9]).is_err());
    }
}
