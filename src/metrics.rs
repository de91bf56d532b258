//! Process metrics in Prometheus text format, kept with atomics (no registry crate).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// A fixed-bucket histogram.
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    /// Sum in millionths of the unit, so it fits an integer atomic.
    sum_micro: AtomicU64,
}

pub const LATENCY_BOUNDS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
pub const BATCH_BOUNDS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0];

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micro: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micro.fetch_add((value * 1e6) as u64, Relaxed);
    }

    /// The mean of what was observed (0 before anything was).
    pub fn mean(&self) -> f64 {
        let count = self.count.load(Relaxed);
        if count == 0 { 0.0 } else { self.sum_micro.load(Relaxed) as f64 / 1e6 / count as f64 }
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            cumulative += bucket.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let brace = |s: &str| if s.is_empty() { String::new() } else { format!("{{{s}}}") };
        let _ = writeln!(out, "{name}_sum{} {}", brace(labels), self.sum_micro.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count{} {count}", brace(labels));
    }
}

struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    latency: Histogram,
}

pub struct Metrics {
    /// route pattern → method → stats; nested so a request looks its entry up by `&str` and
    /// allocates only the first time a route/method pair is seen.
    routes: Mutex<BTreeMap<String, BTreeMap<String, RouteStats>>>,
    pub events_ingested: AtomicU64,
    pub events_duplicate: AtomicU64,
    pub events_rejected: AtomicU64,
    pub writer_batch_events: Histogram,
    pub writer_commit_seconds: Histogram,
    /// Part of the above spent applying the jobs, before `commit()` writes and syncs.
    pub writer_apply_seconds: Histogram,
    pub writer_queue_depth: AtomicI64,
    pub crm_deliveries: AtomicU64,
    pub crm_failures: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            routes: Mutex::new(BTreeMap::new()),
            events_ingested: AtomicU64::new(0),
            events_duplicate: AtomicU64::new(0),
            events_rejected: AtomicU64::new(0),
            writer_batch_events: Histogram::new(BATCH_BOUNDS),
            writer_commit_seconds: Histogram::new(LATENCY_BOUNDS),
            writer_apply_seconds: Histogram::new(LATENCY_BOUNDS),
            writer_queue_depth: AtomicI64::new(0),
            crm_deliveries: AtomicU64::new(0),
            crm_failures: AtomicU64::new(0),
        }
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Records one HTTP request. `route` is the matched route pattern, never the raw path,
    /// so label cardinality stays bounded.
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut routes) = self.routes.lock() else { return };
        if !routes.contains_key(route) {
            routes.insert(route.to_string(), BTreeMap::new());
        }
        let Some(methods) = routes.get_mut(route) else { return };
        if !methods.contains_key(method) {
            let fresh = RouteStats { by_status: BTreeMap::new(), latency: Histogram::new(LATENCY_BOUNDS) };
            methods.insert(method.to_string(), fresh);
        }
        let Some(stats) = methods.get_mut(method) else { return };
        *stats.by_status.entry(status).or_default() += 1;
        stats.latency.observe(elapsed.as_secs_f64());
    }

    /// Renders everything; `lead_counts` comes from the store at scrape time.
    pub fn render(&self, lead_counts: &[(&str, u64)]) -> String {
        let mut out = String::with_capacity(8 * 1024);
        out.push_str("# HELP crm_http_requests_total HTTP requests by route and status.\n# TYPE crm_http_requests_total counter\n");
        let routes = self.routes.lock().map(|r| {
            let mut text = String::new();
            let mut latency = String::new();
            for (route, method, stats) in
                r.iter().flat_map(|(route, m)| m.iter().map(move |(method, s)| (route, method, s)))
            {
                let labels = format!("method=\"{}\",route=\"{}\"", escape_label(method), escape_label(route));
                for (status, n) in &stats.by_status {
                    let _ = writeln!(text, "crm_http_requests_total{{{labels},status=\"{status}\"}} {n}");
                }
                stats.latency.render(&mut latency, "crm_http_request_duration_seconds", &labels);
            }
            (text, latency)
        });
        if let Ok((text, latency)) = routes {
            out.push_str(&text);
            out.push_str("# HELP crm_http_request_duration_seconds HTTP request latency by route.\n# TYPE crm_http_request_duration_seconds histogram\n");
            out.push_str(&latency);
        }
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(&mut out, "crm_events_ingested_total", "Events durably stored.", self.events_ingested.load(Relaxed));
        counter(
            &mut out,
            "crm_events_duplicate_total",
            "Events ignored as repeats of a stored event id.",
            self.events_duplicate.load(Relaxed),
        );
        counter(
            &mut out,
            "crm_events_rejected_total",
            "Events in rejected requests.",
            self.events_rejected.load(Relaxed),
        );
        counter(&mut out, "crm_crm_deliveries_total", "CRM sync jobs delivered.", self.crm_deliveries.load(Relaxed));
        counter(&mut out, "crm_crm_failures_total", "CRM sync attempts that failed.", self.crm_failures.load(Relaxed));
        out.push_str("# HELP crm_leads Leads stored, by status.\n# TYPE crm_leads gauge\n");
        for (status, n) in lead_counts {
            let _ = writeln!(out, "crm_leads{{status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP crm_writer_queue_depth Write jobs waiting for the writer thread.\n# TYPE crm_writer_queue_depth gauge\n");
        let _ = writeln!(out, "crm_writer_queue_depth {}", self.writer_queue_depth.load(Relaxed).max(0));
        out.push_str("# HELP crm_writer_batch_events Events applied per write transaction.\n# TYPE crm_writer_batch_events histogram\n");
        self.writer_batch_events.render(&mut out, "crm_writer_batch_events", "");
        out.push_str("# HELP crm_writer_commit_seconds Time to apply and durably commit one write transaction.\n# TYPE crm_writer_commit_seconds histogram\n");
        self.writer_commit_seconds.render(&mut out, "crm_writer_commit_seconds", "");
        out.push_str("# HELP crm_writer_apply_seconds Time applying a transaction's jobs, before its durable commit.\n# TYPE crm_writer_apply_seconds histogram\n");
        self.writer_apply_seconds.render(&mut out, "crm_writer_apply_seconds", "");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.record_request("POST", "/v1/track", 200, Duration::from_millis(3));
        m.writer_batch_events.observe(20.0);
        let text = m.render(&[("submitted", 4)]);
        assert!(text.contains("crm_http_requests_total{method=\"POST\",route=\"/v1/track\",status=\"200\"} 1"));
        assert!(
            text.contains(
                "crm_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/track\",le=\"0.005\"} 1"
            )
        );
        assert!(text.contains("crm_leads{status=\"submitted\"} 4"));
        assert!(text.contains("crm_writer_batch_events_bucket{le=\"20\"} 1"));
    }
}
