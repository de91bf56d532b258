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

use redb::{Database, Durability, ReadableDatabase, WriteTransaction};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;
use tokio::sync::oneshot;

use super::ingest::{IngestBatch, IngestOutcome, IngestTables, WriterCache};
use super::{Result, StoreError};
use crate::domain::time::Timestamp;
use crate::metrics::Metrics;

/// How many jobs may wait; beyond this, callers get [`StoreError::Busy`] (HTTP 503) instead
/// of the process growing its memory without bound.
pub const QUEUE_CAPACITY: usize = 8192;
/// Upper bound of events applied in one transaction, to bound commit latency.
const MAX_EVENTS_PER_COMMIT: usize = 20_000;

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
            _ => 1,
        }
    }
}

/// Handle to the writer thread. Cheap to share behind an `Arc`.
pub struct Writer {
    tx: SyncSender<Job>,
    metrics: Arc<Metrics>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn spawn(db: Arc<Database>, metrics: Arc<Metrics>) -> Writer {
        Writer::spawn_with_capacity(db, metrics, QUEUE_CAPACITY)
    }

    pub fn spawn_with_capacity(db: Arc<Database>, metrics: Arc<Metrics>, capacity: usize) -> Writer {
        let (tx, rx) = sync_channel(capacity);
        let thread_metrics = metrics.clone();
        let thread = std::thread::Builder::new()
            .name("crm-writer".into())
            .spawn(move || run(db, rx, thread_metrics))
            .expect("spawning the writer thread");
        Writer { tx, metrics, thread: Mutex::new(Some(thread)) }
    }

    fn submit(&self, job: Job) -> Result<()> {
        match self.tx.try_send(job) {
            Ok(()) => {
                self.metrics.writer_queue_depth.fetch_add(1, Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(StoreError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(StoreError::WriterStopped),
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

fn run(db: Arc<Database>, rx: Receiver<Job>, metrics: Arc<Metrics>) {
    let mut stopping = false;
    let newest = db.begin_read().map_err(StoreError::from).and_then(|txn| super::event_pages::newest_id(&txn));
    let mut cache = match newest {
        Ok(newest) => WriterCache::new(newest),
        Err(e) => {
            // Ids still come from the clock; only a clock set back since could misorder them.
            tracing::error!(error = %e, "could not read the newest event id");
            WriterCache::default()
        }
    };
    while !stopping {
        let Ok(first) = rx.recv() else { break };
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
        if jobs.iter().any(|j| matches!(j, Job::Stop)) {
            stopping = true;
        }
        let started = Instant::now();
        commit_group(&db, jobs, &metrics, &mut cache);
        metrics.writer_commit_seconds.observe(started.elapsed().as_secs_f64());
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

fn commit_group(db: &Database, jobs: Vec<Job>, metrics: &Metrics, cache: &mut WriterCache) {
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
        return;
    }
    let now = Timestamp::now();
    // Admin jobs may change or delete leads and forms: the cache is dropped after them.
    let had_admin_jobs = !execs.is_empty();
    let mut outcomes = Vec::with_capacity(ingests.len());
    let result = (|| -> Result<()> {
        let applying = Instant::now();
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
        }
        Err(e) => {
            cache.clear();
            if matches!(e, StoreError::Io(_)) {
                log_io_failure(&e);
            } else {
                tracing::error!(error = %e, "write transaction failed; nothing in it was stored");
            }
            for (batch, reply) in ingests {
                let _ = reply.send((Err(e.clone()), batch));
            }
            for job in execs {
                job.finish(Err(e.clone()));
            }
        }
    }
    if had_admin_jobs {
        cache.clear();
    }
}

/// Once a write to the file failed, every later commit fails at once too, possibly
/// hundreds a second while senders retry: the log says what to do once a minute, not per
/// commit.
fn log_io_failure(e: &StoreError) {
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if last.is_some_and(|at| at.elapsed() < std::time::Duration::from_secs(60)) {
        return;
    }
    *last = Some(Instant::now());
    tracing::error!(
        error = %e,
        "the data file cannot be written: writes fail (503) until the server is restarted with the cause fixed \
         (a full disk: free space first); everything acknowledged so far is in the data file and its journal"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use std::sync::atomic::AtomicBool;

    // Multi-threaded: the test thread blocks on std channels while tasks run elsewhere.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_busy_instead_of_growing() {
        let store = Store::in_memory().unwrap();
        let writer = Arc::new(Writer::spawn_with_capacity(store.database().clone(), Arc::new(Metrics::default()), 2));
        // Hold the writer thread inside a job until released.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let w = writer.clone();
        let blocked = tokio::spawn(async move {
            w.exec(move |_| {
                started_tx.send(()).unwrap();
                hold.recv().unwrap();
                Ok(1)
            })
            .await
        });
        started.recv().unwrap();
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

    /// Storage whose writes fail with "no space left on device" while `full` is set.
    #[derive(Debug)]
    struct FillingDisk {
        inner: redb::backends::InMemoryBackend,
        full: Arc<AtomicBool>,
    }

    impl FillingDisk {
        fn check(&self) -> std::io::Result<()> {
            if self.full.load(Relaxed) {
                return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device"));
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

    /// A full disk is a storage I/O error (the HTTP layer answers 503 with Retry-After), and
    /// stays one after space is freed: redb refuses writes until the file is opened again,
    /// which is what the log tells the operator.
    #[tokio::test]
    async fn a_full_disk_fails_this_and_every_later_write_as_io() {
        let full = Arc::new(AtomicBool::new(false));
        let disk = FillingDisk { inner: redb::backends::InMemoryBackend::new(), full: full.clone() };
        let db = Arc::new(redb::Database::builder().create_with_backend(disk).unwrap());
        let writer = Writer::spawn(db, Arc::new(Metrics::default()));
        let put = |v: u8| {
            writer.exec(move |txn| {
                txn.open_table(crate::store::tables::META)?.insert("probe", [v].as_slice())?;
                Ok(())
            })
        };
        put(1).await.unwrap();
        full.store(true, Relaxed);
        let err = put(2).await.unwrap_err();
        assert!(matches!(err, StoreError::Io(ref m) if m.contains("No space left")), "{err:?}");
        full.store(false, Relaxed);
        let err = put(3).await.unwrap_err();
        assert!(matches!(err, StoreError::Io(ref m) if m.contains("restarted")), "{err:?}");
        writer.shutdown();
    }

    #[tokio::test]
    async fn a_refused_job_does_not_stop_the_others_in_its_group() {
        let store = Store::in_memory().unwrap();
        let writer = Writer::spawn(store.database().clone(), Arc::new(Metrics::default()));
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
