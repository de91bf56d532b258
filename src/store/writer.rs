//! The single writer thread and its group commit.
//!
//! Every write in the process is a job on one bounded channel. The thread takes the first
//! waiting job, then everything else already queued (up to a cap), applies them all in ONE
//! write transaction, commits it durably (`Durability::Immediate`), and only then answers
//! each job. While one commit waits for the disk, new requests queue up and ride the next
//! commit together, so throughput grows with load without adding latency at low load.
//!
//! Invariant for [`Writer::exec`] jobs: a job that returns a non-fatal error (not found,
//! conflict) must not have written anything before returning it, because the transaction it
//! ran in is still committed for the other jobs. Fatal (storage) errors abort the whole group.

use redb::{Durability, WriteTransaction};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

use super::ingest::{IngestBatch, IngestOutcome, IngestTables, WriterCache};
use super::{Result, Store, StoreError};
use crate::domain::time::Timestamp;
use crate::metrics::Metrics;

/// How many jobs may wait; beyond this, callers get [`StoreError::Busy`] (HTTP 503) instead
/// of the process growing its memory without bound.
pub const QUEUE_CAPACITY: usize = 8192;
/// How many events may wait, whatever the number of jobs: a job is a whole batch of up to
/// 50 events, and a batch of large events holds about a megabyte until it is committed, so
/// a thousand of them queued took a gigabyte. Beyond this, [`StoreError::Busy`] too. A
/// hundred times what the benchmark's 128 connections keep waiting.
const MAX_QUEUED_EVENTS: usize = 5_000;
/// Upper bound of events applied in one transaction, to bound commit latency and the memory
/// a commit holds (with [`MAX_QUEUED_EVENTS`], what the writer holds at most).
const MAX_EVENTS_PER_COMMIT: usize = 5_000;

trait ExecJob: Send {
    /// Runs inside the group's transaction; an `Err` here is fatal for the group.
    fn run(&mut self, txn: &WriteTransaction) -> Result<()>;
    /// Called after the commit (or its failure) to answer the caller.
    fn finish(self: Box<Self>, committed: Result<()>);
}

struct FnJob<T, F> {
    f: Option<F>,
    out: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> ExecJob for FnJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&WriteTransaction) -> Result<T> + Send + 'static,
{
    fn run(&mut self, txn: &WriteTransaction) -> Result<()> {
        let Some(f) = self.f.take() else { return Ok(()) };
        let out = f(txn);
        if let Err(e) = &out
            && e.is_fatal()
        {
            let fatal = e.clone();
            self.out = Some(out);
            return Err(fatal);
        }
        self.out = Some(out);
        Ok(())
    }

    fn finish(self: Box<Self>, committed: Result<()>) {
        let answer = match (committed, self.out) {
            (Err(e), _) => Err(e),
            (Ok(()), Some(out)) => out,
            (Ok(()), None) => Err(StoreError::Storage("job did not run".into())),
        };
        let _ = self.reply.send(answer);
    }
}

/// An ingest job hands its batch back with the answer, so the batch's memory is freed on
/// the request's thread, not on the writer's (the one serial part of ingest).
type IngestReply = oneshot::Sender<(Result<IngestOutcome>, IngestBatch)>;

enum Job {
    Ingest(IngestBatch, IngestReply),
    Exec(Box<dyn ExecJob>),
    Stop,
}

impl Job {
    fn events(&self) -> usize {
        match self {
            Job::Ingest(batch, _) => batch.events.len(),
            Job::Exec(_) => 1,
            // Sent by shutdown() straight into the channel, never counted in.
            Job::Stop => 0,
        }
    }
}

/// Handle to the writer thread. Cheap to share behind an `Arc`.
pub struct Writer {
    tx: SyncSender<Job>,
    /// Events in jobs sent and not yet taken by the writer thread.
    queued_events: Arc<AtomicUsize>,
    metrics: Arc<Metrics>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn spawn(store: Store, metrics: Arc<Metrics>) -> Writer {
        Writer::spawn_with_capacity(store, metrics, QUEUE_CAPACITY)
    }

    pub fn spawn_with_capacity(store: Store, metrics: Arc<Metrics>, capacity: usize) -> Writer {
        let (tx, rx) = sync_channel(capacity);
        let thread_metrics = metrics.clone();
        let queued_events = Arc::new(AtomicUsize::new(0));
        let taken = queued_events.clone();
        let thread = std::thread::Builder::new()
            .name("crm-writer".into())
            .spawn(move || run(store, rx, thread_metrics, taken))
            .expect("spawning the writer thread");
        Writer { tx, queued_events, metrics, thread: Mutex::new(Some(thread)) }
    }

    fn submit(&self, job: Job) -> Result<()> {
        let events = job.events();
        let waiting = self.queued_events.fetch_add(events, Relaxed);
        // An empty queue takes any job, so no batch is refused for ever.
        if waiting > 0 && waiting + events > MAX_QUEUED_EVENTS {
            self.queued_events.fetch_sub(events, Relaxed);
            return Err(StoreError::Busy);
        }
        match self.tx.try_send(job) {
            Ok(()) => {
                self.metrics.writer_queue_depth.fetch_add(1, Relaxed);
                Ok(())
            }
            Err(e) => {
                self.queued_events.fetch_sub(events, Relaxed);
                match e {
                    TrySendError::Full(_) => Err(StoreError::Busy),
                    TrySendError::Disconnected(_) => Err(StoreError::WriterStopped),
                }
            }
        }
    }

    /// Stores a batch of events; resolves once it is durably committed.
    pub async fn ingest(&self, batch: IngestBatch) -> Result<IngestOutcome> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Ingest(batch, reply))?;
        let (outcome, batch) = answer.await.map_err(|_| StoreError::WriterStopped)?;
        drop(batch);
        outcome
    }

    /// Runs `f` in a write transaction; resolves once it is durably committed.
    pub async fn exec<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Exec(Box::new(FnJob { f: Some(f), out: None, reply })))?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// Commits everything queued before this call, then stops the thread.
    pub fn shutdown(&self) {
        let Ok(mut guard) = self.thread.lock() else { return };
        if let Some(thread) = guard.take() {
            let _ = self.tx.send(Job::Stop);
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How often a writer whose file failed a write checks whether it can open it again
/// (each check writes a small probe file). Short in unit tests, which wait for it.
const REOPEN_EVERY: Duration = if cfg!(test) { Duration::from_millis(50) } else { Duration::from_secs(5) };
/// How long a reopen waits for reads still using the old handle.
const REOPEN_WAIT: Duration = Duration::from_secs(2);

fn run(store: Store, rx: Receiver<Job>, metrics: Arc<Metrics>, queued_events: Arc<AtomicUsize>) {
    let mut stopping = false;
    let newest = store.read(super::event_pages::newest_id);
    let mut cache = match newest {
        Ok(newest) => WriterCache::new(newest),
        Err(e) => {
            // Ids still come from the clock; only a clock set back since could misorder them.
            tracing::error!(error = %e, "could not read the newest event id");
            WriterCache::default()
        }
    };
    // Set while the file refuses writes after running out of space: when the last reopen
    // was tried. (Other failures, a failing device, wait for a restart: reopening would
    // take the handle reads still use, and fail.)
    let mut failed: Option<Instant> = None;
    while !stopping {
        let first = match failed {
            None => rx.recv().map_err(|_| ()),
            // Waits no longer than the next reopen attempt, so a server nobody writes to
            // recovers as well.
            Some(_) => match rx.recv_timeout(REOPEN_EVERY) {
                Ok(job) => Ok(job),
                Err(RecvTimeoutError::Timeout) => {
                    try_reopen(&store, &mut failed);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => Err(()),
            },
        };
        let Ok(first) = first else { break };
        let mut events = first.events();
        let mut jobs = vec![first];
        while events < MAX_EVENTS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => {
                    events += job.events();
                    jobs.push(job);
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        metrics.writer_queue_depth.fetch_sub(jobs.len() as i64, Relaxed);
        queued_events.fetch_sub(events, Relaxed);
        if jobs.iter().any(|j| matches!(j, Job::Stop)) {
            stopping = true;
        }
        if failed.is_some_and(|at| at.elapsed() >= REOPEN_EVERY) {
            try_reopen(&store, &mut failed);
        }
        let started = Instant::now();
        let result = commit_group(&store, jobs, &metrics, &mut cache);
        metrics.writer_commit_seconds.observe(started.elapsed().as_secs_f64());
        match &result {
            Err(StoreError::Io(e)) if failed.is_none() && is_out_of_space(e) => failed = Some(Instant::now()),
            Ok(()) => failed = None,
            Err(_) => {}
        }
        if let Err(e @ StoreError::Io(_)) = &result {
            log_io_failure(e, failed.is_some());
        }
    }
    // Anything still queued after Stop is answered, not dropped silently.
    while let Ok(job) = rx.try_recv() {
        match job {
            Job::Ingest(batch, reply) => drop(reply.send((Err(StoreError::WriterStopped), batch))),
            Job::Exec(job) => job.finish(Err(StoreError::WriterStopped)),
            Job::Stop => {}
        }
    }
}

/// A write failed for want of space (ENOSPC, or EDQUOT: a quota), which freeing space fixes.
fn is_out_of_space(error: &str) -> bool {
    ["No space left", "os error 28", "Disk quota exceeded", "os error 122"].iter().any(|m| error.contains(m))
}

/// After a failed write redb refuses every later one until the file is opened again: once
/// writing works again (the disk has room), the writer opens it again and carries on.
fn try_reopen(store: &Store, failed: &mut Option<Instant>) {
    *failed = Some(Instant::now());
    match store.reopen(REOPEN_WAIT) {
        Ok(true) => {
            tracing::warn!("the data file can be written again and was reopened; writes are accepted again");
            *failed = None;
        }
        Ok(false) => {}
        Err(e) => tracing::error!(error = %e, "opening the data file again failed; retrying"),
    }
}

/// Commits the jobs and answers them; the error is the commit's (the jobs have it too).
fn commit_group(store: &Store, jobs: Vec<Job>, metrics: &Metrics, cache: &mut WriterCache) -> Result<()> {
    let mut ingests = Vec::new();
    let mut execs = Vec::new();
    for job in jobs {
        match job {
            Job::Ingest(batch, reply) => ingests.push((batch, reply)),
            Job::Exec(job) => execs.push(job),
            Job::Stop => {}
        }
    }
    if ingests.is_empty() && execs.is_empty() {
        return Ok(());
    }
    let now = Timestamp::now();
    // Admin jobs may change or delete leads and forms: the cache is dropped after them.
    let had_admin_jobs = !execs.is_empty();
    let mut outcomes = Vec::with_capacity(ingests.len());
    let result = (|| -> Result<()> {
        let applying = Instant::now();
        let db = store.database()?;
        let mut txn = db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        if !ingests.is_empty() {
            cache.ids.tick();
            let mut tables = IngestTables::open(&txn)?;
            for (batch, _) in &mut ingests {
                outcomes.push(tables.apply(batch, now, cache)?);
            }
            tables.finish(cache)?;
        }
        for job in execs.iter_mut() {
            job.run(&txn)?;
        }
        metrics.writer_apply_seconds.observe(applying.elapsed().as_secs_f64());
        txn.commit()?;
        Ok(())
    })();

    match result {
        Ok(()) => {
            let mut accepted = 0;
            let mut duplicates = 0;
            for ((batch, reply), outcome) in ingests.into_iter().zip(outcomes) {
                accepted += outcome.accepted;
                duplicates += outcome.duplicates;
                let _ = reply.send((Ok(outcome), batch));
            }
            metrics.events_ingested.fetch_add(accepted as u64, Relaxed);
            metrics.events_duplicate.fetch_add(duplicates as u64, Relaxed);
            metrics.writer_batch_events.observe((accepted + duplicates) as f64);
            for job in execs {
                job.finish(Ok(()));
            }
            if had_admin_jobs {
                cache.clear();
            }
            Ok(())
        }
        Err(e) => {
            cache.clear();
            // An I/O failure is logged by the caller, which knows whether it can recover.
            if !matches!(e, StoreError::Io(_)) {
                tracing::error!(error = %e, "write transaction failed; nothing in it was stored");
            }
            for (batch, reply) in ingests {
                let _ = reply.send((Err(e.clone()), batch));
            }
            for job in execs {
                job.finish(Err(e.clone()));
            }
            Err(e)
        }
    }
}

/// Once a write to the file failed, every later commit fails at once too, possibly
/// hundreds a second while senders retry: the log says what to do once a minute, not per
/// commit.
fn log_io_failure(e: &StoreError, disk_full: bool) {
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    if last.is_some_and(|at| at.elapsed() < Duration::from_secs(60)) {
        return;
    }
    *last = Some(Instant::now());
    if disk_full {
        tracing::error!(
            error = %e,
            "the data file's disk is full: writes fail (503) until space is freed; the server then opens the \
             file again by itself within seconds; everything acknowledged so far is in the data file and its journal"
        );
    } else {
        tracing::error!(
            error = %e,
            "the data file cannot be written: writes fail (503) until the server is restarted with the cause \
             fixed; everything acknowledged so far is in the data file and its journal"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    /// Holds the writer thread inside a job (answering `value`) until `release` is sent;
    /// returns once the job runs, so later jobs wait in the queue.
    fn hold_writer<T: Send + 'static>(
        writer: &Arc<Writer>,
        value: T,
    ) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<Result<T>>) {
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let w = writer.clone();
        let blocked = tokio::spawn(async move {
            w.exec(move |_| {
                started_tx.send(()).unwrap();
                hold.recv().unwrap();
                Ok(value)
            })
            .await
        });
        started.recv().unwrap();
        (release, blocked)
    }

    // Multi-threaded: the test thread blocks on std channels while tasks run elsewhere.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_busy_instead_of_growing() {
        let store = Store::in_memory().unwrap();
        let writer = Arc::new(Writer::spawn_with_capacity(store.clone(), Arc::new(Metrics::default()), 2));
        let (release, blocked) = hold_writer(&writer, 1);
        let queued: Vec<_> = (0..2)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move { w.exec(move |_| Ok(i)).await })
            })
            .collect();
        // Let both queued jobs reach the channel (the running job has left it).
        while writer.metrics.writer_queue_depth.load(Relaxed) < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert!(matches!(writer.exec(|_| Ok(9)).await, Err(StoreError::Busy)));
        release.send(()).unwrap();
        assert_eq!(blocked.await.unwrap().unwrap(), 1);
        for (i, q) in queued.into_iter().enumerate() {
            assert_eq!(q.await.unwrap().unwrap(), i);
        }
        writer.shutdown();
    }

    /// Fifty-event batches, ready for the writer.
    fn batch_of_fifty(client: crate::domain::model::Id) -> IngestBatch {
        use crate::domain::enrich::RequestContext;
        use crate::domain::lead_rules::SiteRules;
        let events: Vec<_> = (0..50)
            .map(|_| serde_json::json!({"id": uuid::Uuid::now_v7(), "type": "tracker_initialized", "visitorId": "v"}))
            .collect();
        let body = serde_json::json!({"events": events}).to_string();
        let now = Timestamp::now();
        let parsed = crate::domain::event::parse_batch(body.as_bytes(), now, &RequestContext::default()).unwrap();
        let rules = SiteRules::default();
        let events = parsed
            .events
            .into_iter()
            .map(|e| super::super::ingest::PreparedEvent::new(e, client, &rules, false, now).unwrap())
            .collect();
        IngestBatch { client_id: client, events, crm_enabled: false }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_events_are_bounded_whatever_the_number_of_jobs() {
        let store = Store::in_memory().unwrap();
        let writer = Arc::new(Writer::spawn(store.clone(), Arc::new(Metrics::default())));
        let (release, blocked) = hold_writer(&writer, ());
        let client = uuid::Uuid::now_v7();
        // Far fewer jobs than the channel holds, as many events as may wait.
        let waiting: Vec<_> = (0..MAX_QUEUED_EVENTS / 50)
            .map(|_| {
                let w = writer.clone();
                let batch = batch_of_fifty(client);
                tokio::spawn(async move { w.ingest(batch).await })
            })
            .collect();
        while writer.queued_events.load(Relaxed) < MAX_QUEUED_EVENTS {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert!(matches!(writer.ingest(batch_of_fifty(client)).await, Err(StoreError::Busy)));
        release.send(()).unwrap();
        blocked.await.unwrap().unwrap();
        for w in waiting {
            assert_eq!(w.await.unwrap().unwrap().accepted, 50);
        }
        assert_eq!(writer.queued_events.load(Relaxed), 0);
        // Taken off the queue, the events no longer count: a batch is welcome again.
        assert_eq!(writer.ingest(batch_of_fifty(client)).await.unwrap().accepted, 50);
        writer.shutdown();
    }

    /// Storage whose writes fail with "no space left on device" while `full` is set. Clones
    /// share the storage, so a database can be opened on it again.
    #[derive(Debug, Clone)]
    struct FillingDisk {
        inner: Arc<redb::backends::InMemoryBackend>,
        full: Arc<AtomicBool>,
        /// A failing device instead: "Input/output error".
        broken: bool,
    }

    impl FillingDisk {
        fn check(&self) -> std::io::Result<()> {
            if self.full.load(Relaxed) {
                return Err(if self.broken {
                    std::io::Error::other("Input/output error (os error 5)")
                } else {
                    std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device")
                });
            }
            Ok(())
        }
    }

    impl redb::StorageBackend for FillingDisk {
        fn len(&self) -> std::io::Result<u64> {
            self.inner.len()
        }
        fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
            self.inner.read(offset, out)
        }
        fn set_len(&self, len: u64) -> std::io::Result<()> {
            self.check()?;
            self.inner.set_len(len)
        }
        fn sync_data(&self) -> std::io::Result<()> {
            self.check()?;
            self.inner.sync_data()
        }
        fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
            self.check()?;
            self.inner.write(offset, data)
        }
    }

    /// Opens the database on the disk again, counting how often.
    struct Reopen {
        disk: FillingDisk,
        opens: AtomicUsize,
    }

    impl crate::store::Reopener for Reopen {
        fn writable(&self) -> std::io::Result<()> {
            self.disk.check()
        }
        fn open(&self) -> Result<redb::Database> {
            self.opens.fetch_add(1, Relaxed);
            Ok(redb::Database::builder().create_with_backend(self.disk.clone())?)
        }
    }

    fn filling_store() -> (Store, Arc<AtomicBool>, Arc<Reopen>) {
        failing_store(false)
    }

    fn failing_store(broken: bool) -> (Store, Arc<AtomicBool>, Arc<Reopen>) {
        let full = Arc::new(AtomicBool::new(false));
        let disk = FillingDisk { inner: Arc::new(redb::backends::InMemoryBackend::new()), full: full.clone(), broken };
        let db = redb::Database::builder().create_with_backend(disk.clone()).unwrap();
        let reopen = Arc::new(Reopen { disk, opens: AtomicUsize::new(0) });
        (Store::with_reopener(db, reopen.clone()).unwrap(), full, reopen)
    }

    /// Writes a marker key through the writer.
    async fn put_key(writer: &Writer, key: &'static str) -> Result<()> {
        writer
            .exec(move |txn| {
                txn.open_table(crate::store::tables::META)?.insert(key, [1u8].as_slice())?;
                Ok(())
            })
            .await
    }

    fn stored(store: &Store, key: &'static str) -> bool {
        store.read(|r| Ok(r.open_table(crate::store::tables::META)?.get(key)?.is_some())).unwrap()
    }

    /// A full disk is a storage I/O error (the HTTP layer answers 503 with Retry-After) for
    /// the write that met it and every later one while the disk stays full; reads go on.
    /// Once space is freed the writer opens the file again, and writes work without a
    /// restart; nothing of the refused writes was stored.
    #[tokio::test]
    async fn a_full_disk_refuses_writes_until_space_is_freed() {
        let (store, full, reopen) = filling_store();
        let writer = Writer::spawn(store.clone(), Arc::new(Metrics::default()));
        let put = |key: &'static str| put_key(&writer, key);
        put("before").await.unwrap();
        full.store(true, Relaxed);
        let err = put("while full").await.unwrap_err();
        assert!(matches!(err, StoreError::Io(ref m) if m.contains("No space left")), "{err:?}");
        // Past the reopen interval: the attempt finds the disk still full and keeps the old
        // handle, which still serves reads.
        tokio::time::sleep(REOPEN_EVERY * 3).await;
        let err = put("still full").await.unwrap_err();
        assert!(matches!(err, StoreError::Io(ref m) if m.contains("opened the file again")), "{err:?}");
        assert_eq!(reopen.opens.load(Relaxed), 0);
        assert!(stored(&store, "before"));

        full.store(false, Relaxed);
        // No write is needed for the writer to notice.
        let deadline = Instant::now() + Duration::from_secs(10);
        while reopen.opens.load(Relaxed) == 0 {
            assert!(Instant::now() < deadline, "the writer did not reopen the file");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        put("after").await.unwrap();
        assert!(stored(&store, "before") && stored(&store, "after"));
        assert!(!stored(&store, "while full") && !stored(&store, "still full"));
        assert_eq!(reopen.opens.load(Relaxed), 1);
        writer.shutdown();
    }

    /// A failing device is not a full disk: reopening would take the handle reads still
    /// use and most likely fail, so writes wait for a restart and reads go on.
    #[tokio::test]
    async fn a_failing_device_is_not_reopened() {
        let (store, failing, reopen) = failing_store(true);
        let writer = Writer::spawn(store.clone(), Arc::new(Metrics::default()));
        let put = |key: &'static str| put_key(&writer, key);
        put("before").await.unwrap();
        failing.store(true, Relaxed);
        assert!(matches!(put("while failing").await, Err(StoreError::Io(_))));
        failing.store(false, Relaxed);
        tokio::time::sleep(REOPEN_EVERY * 4).await;
        assert!(matches!(put("later").await, Err(StoreError::Io(_))));
        assert_eq!(reopen.opens.load(Relaxed), 0);
        assert!(stored(&store, "before"));
        writer.shutdown();
    }

    /// A reopen does not pull the handle from under a read that is using it: it waits, and
    /// when the read outlasts the wait, keeps the old handle for a later attempt.
    #[test]
    fn a_reopen_waits_for_reads_on_the_old_handle() {
        let (store, _full, reopen) = filling_store();
        let held = store.database().unwrap();
        assert!(!store.reopen(Duration::from_millis(20)).unwrap());
        assert_eq!(reopen.opens.load(Relaxed), 0);
        assert!(Arc::ptr_eq(&held, &store.database().unwrap()));
        drop(held);
        assert!(store.reopen(Duration::from_millis(20)).unwrap());
        assert_eq!(reopen.opens.load(Relaxed), 1);
        assert!(stored(&store, "schema_version"));
    }

    /// Reopening a data file in place closes the old handle first (the file lock and the
    /// journal's lock are released, or the new open would find the file in use) and keeps
    /// everything committed through the old one.
    #[tokio::test]
    async fn a_data_file_reopens_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data.redb")).unwrap();
        let writer = Writer::spawn(store.clone(), Arc::new(Metrics::default()));
        let put = |key: &'static str| put_key(&writer, key);
        put("before").await.unwrap();
        assert!(store.reopen(Duration::from_secs(1)).unwrap());
        put("after").await.unwrap();
        assert!(stored(&store, "before") && stored(&store, "after"));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(!leftovers.iter().any(|n| n.to_string_lossy().contains("probe")), "{leftovers:?}");
        writer.shutdown();
    }

    #[tokio::test]
    async fn a_refused_job_does_not_stop_the_others_in_its_group() {
        let store = Store::in_memory().unwrap();
        let writer = Writer::spawn(store.clone(), Arc::new(Metrics::default()));
        let (a, b) = tokio::join!(
            writer.exec(|_| Err::<(), _>(StoreError::NotFound("thing"))),
            writer.exec(|txn| {
                txn.open_table(crate::store::tables::META)?.insert("probe", [1u8].as_slice())?;
                Ok(())
            })
        );
        assert!(matches!(a, Err(StoreError::NotFound(_))));
        b.unwrap();
        let stored = store.read(|r| Ok(r.open_table(crate::store::tables::META)?.get("probe")?.is_some())).unwrap();
        assert!(stored);
        writer.shutdown();
    }
}
