#![allow(dead_code)] // shared by two examples; each uses part of it

//! The events the benchmarks send, shaped like what `tracker/src/tracker.js` sends, with
//! time-ordered (v7) ids as the tracker makes them. `LOADGEN_V4=1` sends random v4 ids
//! instead, as some server-side senders do: each then costs a random write in the dedup
//! index, which is several times slower.

/// Which events the load consists of (`LOADGEN_MIX`).
#[derive(Clone, Copy, PartialEq)]
pub enum Mix {
    /// A lead-generation site: per 10 visits (`tracker_initialized`, one per session) one
    /// visitor fills the form: a `form_interaction` with their email (a new partial lead),
    /// then the `form_submission` that upgrades it. A 10% conversion rate, several times what
    /// landing pages usually see, so the lead share is on the heavy side.
    Site,
    /// Every visitor fills the form: `tracker_initialized`, `form_interaction` (new partial
    /// lead), `form_submission` (upgrade): one new lead and one update per three events.
    Session,
    /// Every event a form submission by a new visitor: a new lead each (the costliest case).
    Submissions,
}

impl Mix {
    pub fn from_env() -> Mix {
        match std::env::var("LOADGEN_MIX").as_deref() {
            Ok("session") => Mix::Session,
            Ok("submissions") => Mix::Submissions,
            Ok("site") | Err(_) => Mix::Site,
            Ok(other) => panic!("LOADGEN_MIX={other}: use site, session or submissions"),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Mix::Site => {
                "site (per 10 visits one form filled: 10 tracker_initialized, a form_interaction with an \
                 email = new partial lead, the form_submission that upgrades it)"
            }
            Mix::Session => {
                "session (every visitor fills the form: tracker_initialized, form_interaction = new \
                 partial lead, form_submission = upgrade)"
            }
            Mix::Submissions => "submissions (every event a form_submission by a new visitor: a new lead each)",
        }
    }

    /// Event kind (0 visit, 1 interaction with email, 2 submission) and visitor of event `n`.
    fn kind(self, n: u64) -> (u8, u64) {
        match self {
            Mix::Submissions => (2, n),
            Mix::Session => ((n % 3) as u8, n / 3),
            Mix::Site => match n % 12 {
                10 => (1, n / 12 * 12 + 9),
                11 => (2, n / 12 * 12 + 9),
                i => (0, n / 12 * 12 + i),
            },
        }
    }
}

/// `LOADGEN_V4=1`: random event ids. Read once: it is asked for every event.
pub fn random_ids() -> bool {
    static RANDOM: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *RANDOM.get_or_init(|| std::env::var_os("LOADGEN_V4").is_some())
}

/// Appends event number `n` of connection `worker`, as JSON, to `out`. Built by appending
/// pieces, not with `format!`: the generator shares the machine with the server, so its own
/// cost is kept small.
pub fn push_event(out: &mut String, mix: Mix, n: u64, worker: usize) {
    let id = if random_ids() { uuid::Uuid::new_v4() } else { uuid::Uuid::now_v7() };
    let (kind, visitor) = mix.kind(n);
    let (worker, visitor) = (worker.to_string(), visitor.to_string());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    out.push_str(r#"{"id":""#);
    out.push_str(id.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()));
    for (key, prefix) in [("visitorId", "w"), ("sessionId", "s")] {
        out.push_str(r#"",""#);
        out.push_str(key);
        out.push_str(r#"":""#);
        out.push_str(prefix);
        out.push_str(&worker);
        out.push('-');
        out.push_str(&visitor);
    }
    out.push_str(r#"","timestamp":"#);
    out.push_str(&now.to_string());
    out.push_str(
        r#","page":"https://bench.local/contact","attribution":{"landingPage":"https://bench.local/?utm_source=news","referrer":"https://search.example/"}"#,
    );
    let email = || ["user", worker.as_str(), "x", visitor.as_str(), "@example.com"].concat();
    match kind {
        0 => out.push_str(r#","type":"tracker_initialized"}"#),
        1 => {
            out.push_str(
                r##","type":"form_interaction","trigger":"blur","formId":"contact","formSelector":"#contact","fields":{"email":""##,
            );
            out.push_str(&email());
            out.push_str(r#""},"formProgress":4}"#);
        }
        _ => {
            out.push_str(
                r##","type":"form_submission","trigger":"submit","formId":"contact","formSelector":"#contact","formStartedAt":1761129043000,"fields":{"email":""##,
            );
            out.push_str(&email());
            out.push_str(r#"","name":"Load Test","message":"Hello from the benchmark"},"formProgress":4}"#);
        }
    }
}

/// A `/v1/track/batch` body of `size` events, the `round`-th of connection `worker`.
pub fn batch_body(mix: Mix, client: &str, round: u64, worker: usize, size: usize) -> String {
    let mut out = String::with_capacity(512 * size);
    out.push_str(r#"{"clientId":""#);
    out.push_str(client);
    out.push_str(r#"","events":["#);
    for i in 0..size as u64 {
        if i > 0 {
            out.push(',');
        }
        push_event(&mut out, mix, round * size as u64 + i, worker);
    }
    out.push_str("]}");
    out
}

/// A `/v1/track` body: event number `n` of connection `worker` with the site's id.
pub fn single_body(mix: Mix, client: &str, n: u64, worker: usize) -> String {
    let mut out = String::with_capacity(600);
    out.push_str(r#"{"clientId":""#);
    out.push_str(client);
    out.push_str(r#"","#);
    let at = out.len();
    push_event(&mut out, mix, n, worker);
    // The event's own opening brace goes: its members join the body's object.
    out.remove(at);
    out
}
