//! Ingest benchmark: a load generator in its own process against a release `crm-tracker`
//! on loopback.
//!
//! ```text
//! cargo build --release && cargo run --release --example loadgen -- [--seconds 3] [--rounds 3] [--connections 128]
//! ```
//!
//! It starts `target/release/crm-tracker serve` on a fresh data file (rate limits off),
//! then measures, in each of `--rounds` rounds, each for `--seconds` over `--connections`
//! keep-alive connections:
//! 1. `GET /healthz` requests/s (the ceiling of the HTTP stack on this machine),
//! 2. single-event `POST /v1/track` requests/s with p50/p99 latency (every answer is
//!    after a durable commit),
//! 3. 20-event `POST /v1/track/batch` events/s,
//!
//! with the event mix of `support/mix.rs` (`LOADGEN_MIX=site|session|submissions`),
//! and prints the server's resident memory afterwards. The phases alternate round by round,
//! so each round's ingest/healthz ratio compares rates measured seconds apart: a shared VM's
//! speed drifts by more than that between minutes. The headline ratio is the median round's. A second table says why the rates
//! are what they are: the server's CPU share and CPU time per request (from `/proc`), and
//! its durable commits per second, events per commit and time per commit (from `/metrics`,
//! read with an admin token the generator creates). It only talks to 127.0.0.1 and stops
//! by itself.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[path = "support/mix.rs"]
mod mix;
use mix::Mix;

struct Args {
    seconds: u64,
    rounds: usize,
    connections: usize,
    binary: PathBuf,
    /// An already running server (`127.0.0.1:8080`) and one of its clientIds, e.g. to
    /// profile it; the server must run with rate limits off.
    server: Option<(String, String)>,
    /// An admin token of that server, to read its writer figures from `/metrics`.
    token: String,
    /// Which phases to run (all three by default), e.g. to profile one.
    phases: Vec<Phase>,
}

const USAGE: &str = "usage: loadgen [--seconds 3] [--rounds 3] [--connections 128] [--binary target/release/crm-tracker] \
     [--phases healthz,single,batch] [--server 127.0.0.1:PORT --client ID [--token T]]\n\
     Without --server it starts its own server on a fresh data file; LOADGEN_MIX=site|session|submissions \
     picks the event mix, LOADGEN_V4=1 random event ids.";

fn args() -> Args {
    let mut a = Args {
        seconds: 3,
        rounds: 3,
        connections: 128,
        binary: default_binary(),
        server: None,
        token: String::new(),
        phases: vec![Phase::Healthz, Phase::Single, Phase::Batch20],
    };
    let mut client = None;
    // Anywhere on the line, also where a flag's value was expected.
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        std::process::exit(0);
    }
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--seconds" => a.seconds = number(&flag, &value),
            "--rounds" => a.rounds = number(&flag, &value),
            "--connections" => a.connections = number(&flag, &value),
            "--binary" => a.binary = value.into(),
            "--server" => a.server = Some((value, String::new())),
            "--client" => client = Some(value),
            "--token" => a.token = value,
            "--phases" => {
                a.phases = value
                    .split(',')
                    .map(|p| match p {
                        "healthz" => Phase::Healthz,
                        "single" => Phase::Single,
                        "batch" => Phase::Batch20,
                        other => usage_error(&format!("unknown phase {other:?}; use healthz,single,batch")),
                    })
                    .collect()
            }
            other => usage_error(&format!("unknown flag {other}")),
        }
    }
    if let Some((addr, _)) = a.server.take() {
        let client = client.unwrap_or_else(|| usage_error("--server needs --client"));
        if !(addr.starts_with("127.") || addr.starts_with("localhost")) {
            usage_error(&format!("--server {addr}: loopback servers only (127.x.x.x or localhost)"));
        }
        a.server = Some((addr, client));
    }
    if !(1..=120).contains(&a.seconds) || !(1..=10).contains(&a.rounds) || a.connections == 0 {
        usage_error("keep runs bounded: 1 to 120 s per phase, 1 to 10 rounds, at least 1 connection");
    }
    a
}

/// A bad command line: says what was wrong and how to call it, and exits 2.
fn usage_error(what: &str) -> ! {
    eprintln!("{what}\n{USAGE}");
    std::process::exit(2)
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> T {
    value.parse().unwrap_or_else(|_| usage_error(&format!("{flag} takes a whole number, not {value:?}")))
}

/// `target/release/crm-tracker`, beside `target/release/examples/loadgen`.
fn default_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent().and_then(Path::parent).map(|d| d.join("crm-tracker")).expect("target dir")
}

fn run_cli(bin: &Path, data: &Path, args: &[&str]) -> String {
    let out = Command::new(bin).arg("--data").arg(data).args(args).output().expect("run crm-tracker");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start_server(bin: &Path, data: &Path) -> (Child, String) {
    let mut child = Command::new(bin)
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0", "--rate-limit-ip", "0", "--rate-limit-client", "0"])
        .env("CRM_TRACKER_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").expect("read");
        if let Some(rest) = line.strip_prefix("crm-tracker listening on http://") {
            break rest.split_whitespace().next().expect("addr").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, addr)
}

/// What the server did during a phase, from its `/proc` entry and its `/metrics`: explains
/// the rate (how many durable commits, how full each was, how busy the server's CPU was).
#[derive(Clone, Copy, Default)]
struct ServerSnapshot {
    cpu_seconds: f64,
    commits: f64,
    committed_events: f64,
    commit_seconds: f64,
}

impl ServerSnapshot {
    /// What happened between `before` and this snapshot.
    fn since(&self, before: &ServerSnapshot) -> ServerSnapshot {
        self.zip(before, |now, then| now - then)
    }

    /// Two phases' figures together.
    fn plus(&self, other: &ServerSnapshot) -> ServerSnapshot {
        self.zip(other, |a, b| a + b)
    }

    fn zip(&self, other: &ServerSnapshot, f: impl Fn(f64, f64) -> f64) -> ServerSnapshot {
        ServerSnapshot {
            cpu_seconds: f(self.cpu_seconds, other.cpu_seconds),
            commits: f(self.commits, other.commits),
            committed_events: f(self.committed_events, other.committed_events),
            commit_seconds: f(self.commit_seconds, other.commit_seconds),
        }
    }
}

fn server_snapshot(pid: Option<u32>, addr: &str, token: &str) -> ServerSnapshot {
    let mut snap = ServerSnapshot::default();
    if let Some(pid) = pid {
        // utime and stime, fields 14 and 15 of /proc/PID/stat (after the parenthesised name).
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        snap.cpu_seconds = ticks / hz.max(1.0);
    }
    if token.is_empty() {
        return snap;
    }
    let metrics = http_get(addr, "/metrics", token);
    let value =
        |name: &str| metrics.lines().find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok()).unwrap_or(0.0);
    snap.commits = value("crm_writer_commit_seconds_count ");
    snap.commit_seconds = value("crm_writer_commit_seconds_sum ");
    snap.committed_events = value("crm_writer_batch_events_sum ");
    snap
}

/// A plain blocking GET (between phases only), so no client library is needed for it.
fn http_get(addr: &str, path: &str, token: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else { return String::new() };
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    out
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Healthz,
    Single,
    Batch20,
}

struct Outcome {
    requests: u64,
    errors: u64,
    latencies_us: Vec<u32>,
}

fn body(phase: Phase, mix: Mix, client: &str, n: u64, worker: usize) -> Option<String> {
    match phase {
        Phase::Healthz => None,
        Phase::Single => Some(mix::single_body(mix, client, n, worker)),
        Phase::Batch20 => Some(mix::batch_body(mix, client, n, worker, 20)),
    }
}

async fn connection(
    addr: String,
    client: String,
    phase: Phase,
    mix: Mix,
    worker: usize,
    stop: Arc<AtomicBool>,
) -> Outcome {
    let mut out = Outcome { requests: 0, errors: 0, latencies_us: Vec::with_capacity(64 * 1024) };
    let stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    stream.set_nodelay(true).ok();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let request = match body(phase, mix, &client, n, worker) {
            None => Request::get("/healthz").header("host", &addr).body(Full::new(Bytes::new())),
            Some(b) => Request::post(if matches!(phase, Phase::Single) { "/v1/track" } else { "/v1/track/batch" })
                .header("host", &addr)
                .header("origin", "https://bench.local")
                .header("content-type", "text/plain;charset=UTF-8")
                .body(Full::new(Bytes::from(b))),
        }
        .expect("request");
        let started = Instant::now();
        if sender.ready().await.is_err() {
            out.errors += 1;
            break;
        }
        match sender.send_request(request).await {
            Ok(response) => {
                let ok = response.status() == StatusCode::OK;
                let _ = response.into_body().collect().await;
                out.latencies_us.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
                if ok {
                    out.requests += 1;
                } else {
                    out.errors += 1;
                }
            }
            Err(_) => {
                out.errors += 1;
                break;
            }
        }
    }
    out
}

/// One phase, over one round or (merged) all of them.
struct Measured {
    seconds: f64,
    server: ServerSnapshot,
    requests: u64,
    errors: u64,
    /// Sorted.
    latencies_us: Vec<u32>,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(1e-9)
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        let l = &self.latencies_us;
        if l.is_empty() { 0.0 } else { l[((l.len() - 1) as f64 * p) as usize] as f64 / 1000.0 }
    }

    /// All rounds of one phase as one measurement.
    fn merged(rounds: Vec<Measured>) -> Option<Measured> {
        let mut rounds = rounds.into_iter();
        let mut all = rounds.next()?;
        for m in rounds {
            all.seconds += m.seconds;
            all.requests += m.requests;
            all.errors += m.errors;
            all.latencies_us.extend(m.latencies_us);
            all.server = all.server.plus(&m.server);
        }
        all.latencies_us.sort_unstable();
        Some(all)
    }
}

async fn measure(addr: &str, client: &str, phase: Phase, args: &Args) -> Measured {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..args.connections)
        .map(|w| {
            tokio::spawn(connection(addr.to_string(), client.to_string(), phase, Mix::from_env(), w, stop.clone()))
        })
        .collect();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = Outcome { requests: 0, errors: 0, latencies_us: Vec::new() };
    for t in tasks {
        let o = t.await.expect("task");
        total.requests += o.requests;
        total.errors += o.errors;
        total.latencies_us.extend(o.latencies_us);
    }
    let elapsed = started.elapsed().as_secs_f64();
    total.latencies_us.sort_unstable();
    Measured {
        seconds: elapsed,
        server: ServerSnapshot::default(),
        requests: total.requests,
        errors: total.errors,
        latencies_us: total.latencies_us,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let args = args();
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, addr, client, token) = match &args.server {
        Some((addr, client)) => (None, addr.clone(), client.clone(), args.token.clone()),
        None => {
            assert!(args.binary.exists(), "{} not found: run `cargo build --release` first", args.binary.display());
            let data = dir.path().join("bench.redb");
            let out = run_cli(&args.binary, &data, &["client", "add", "--domain", "bench.local"]);
            let client =
                out.lines().find_map(|l| l.strip_prefix("clientId:")).map(str::trim).expect("clientId").to_string();
            let out = run_cli(&args.binary, &data, &["token", "create", "--name", "loadgen"]);
            let token = out.split_whitespace().find(|w| w.starts_with("crm_")).expect("token").to_string();
            let (child, addr) = start_server(&args.binary, &data);
            (Some(child), addr, client, token)
        }
    };
    println!(
        "crm-tracker benchmark: {} connections, {} rounds of {} s per phase, server {addr}, {} cores",
        args.connections,
        args.rounds,
        args.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("event mix: {}; LOADGEN_MIX=site|session|submissions", Mix::from_env().describe());
    println!(
        "event ids: {}",
        if mix::random_ids() { "random (v4)" } else { "time-ordered (v7); LOADGEN_V4=1 for random" }
    );

    // One thread for the generator: the server keeps the rest of the machine.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let pid = server.as_ref().map(|s| s.id());
    let run = |phase| {
        args.phases.contains(&phase).then(|| {
            let before = server_snapshot(pid, &addr, &token);
            let mut m = rt.block_on(measure(&addr, &client, phase, &args));
            let after = server_snapshot(pid, &addr, &token);
            m.server = after.since(&before);
            m
        })
    };
    let (mut healths, mut singles, mut batches) = (Vec::new(), Vec::new(), Vec::new());
    let mut ratios = Vec::new();
    println!();
    for round in 1..=args.rounds {
        let (h, s, b) = (run(Phase::Healthz), run(Phase::Single), run(Phase::Batch20));
        let mut line = format!("round {round}:");
        if let Some(h) = &h {
            line += &format!(" healthz {:.0}/s", h.per_second());
        }
        if let Some(s) = &s {
            line += &format!(", single {:.0}/s", s.per_second());
            if let Some(h) = &h {
                let ratio = s.per_second() / h.per_second().max(1.0);
                line += &format!(" ({:.0}% of healthz)", ratio * 100.0);
                ratios.push(ratio);
            }
        }
        if let Some(b) = &b {
            line += &format!(", batches {:.0} events/s", b.per_second() * 20.0);
        }
        println!("{line}");
        healths.extend(h);
        singles.extend(s);
        batches.extend(b);
    }
    let batch_rates: Vec<f64> = batches.iter().map(|b| b.per_second() * 20.0).collect();
    let (health, single, batch) = (Measured::merged(healths), Measured::merged(singles), Measured::merged(batches));
    let rss = server.as_ref().map_or(0.0, |s| rss_mb(s.id()));

    println!();
    println!("{:<34} {:>12} {:>9} {:>9} {:>7}", "all rounds", "rate", "p50 ms", "p99 ms", "errors");
    let row = |name: &str, m: &Option<Measured>, per_request: f64| {
        if let Some(m) = m {
            println!(
                "{name:<34} {:>10.0}/s {:>9.2} {:>9.2} {:>7}",
                m.per_second() * per_request,
                m.percentile_ms(0.50),
                m.percentile_ms(0.99),
                m.errors
            );
        }
    };
    row("GET /healthz (req)", &health, 1.0);
    row("POST /v1/track, 1 event (req)", &single, 1.0);
    row("POST /v1/track/batch, 20 (events)", &batch, 20.0);
    // Why the rates are what they are: the server's share of the machine, its CPU time per
    // request, and the group commits behind the ingest phases.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!();
    println!(
        "{:<34} {:>10} {:>12} {:>10} {:>12} {:>10}",
        "server side", "CPU %", "CPU us/req", "commits/s", "events/commit", "commit ms"
    );
    let explain = |name: &str, m: &Option<Measured>| {
        let Some(m) = m else { return };
        let s = &m.server;
        let requests = m.requests as f64;
        let cpu = if pid.is_some() {
            (
                format!("{:.0}", 100.0 * s.cpu_seconds / (m.seconds * cores)),
                format!("{:.1}", 1e6 * s.cpu_seconds / requests.max(1.0)),
            )
        } else {
            ("-".into(), "-".into())
        };
        let commits = if s.committed_events > 0.0 {
            (
                format!("{:.0}", s.commits / m.seconds),
                format!("{:.1}", s.committed_events / s.commits),
                format!("{:.2}", 1e3 * s.commit_seconds / s.commits),
            )
        } else {
            ("-".into(), "-".into(), "-".into())
        };
        println!("{name:<34} {:>10} {:>12} {:>10} {:>12} {:>10}", cpu.0, cpu.1, commits.0, commits.1, commits.2);
    };
    explain("GET /healthz", &health);
    explain("POST /v1/track, 1 event", &single);
    explain("POST /v1/track/batch, 20 per req", &batch);
    println!("(CPU % is of all {cores} cores; the load generator uses the rest. A commit's time includes its fsync.)");
    println!();
    if !ratios.is_empty() {
        let each: Vec<String> = ratios.iter().map(|r| format!("{:.0}%", r * 100.0)).collect();
        println!(
            "single-event ingest / healthz: {:.0}%   (target >= 40%; median round of {})",
            median(ratios.clone()) * 100.0,
            each.join(", ")
        );
    }
    if !batch_rates.is_empty() {
        println!("batched ingest: {:.0} events/s        (target >= 150,000; median round)", median(batch_rates));
    }
    if server.is_some() {
        println!("server RSS after the run: {rss:.1} MB   (target <= 100 MB)");
    }
    println!("every ingest answer was sent after its events were durably committed (fsync)");
    if let Some(server) = server.as_mut() {
        let _ = server.kill();
        let _ = server.wait();
    }
}
