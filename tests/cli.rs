//! The command line as a user runs it.

#[path = "common/process.rs"]
mod process;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

/// Runs a one-off subcommand with extra environment variables; returns (success, stdout, stderr).
fn run_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = process::bin()
        .arg("--data")
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run crm-tracker");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn one_off_commands_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cli.redb");

    let (ok, out, err) = process::run(
        &data,
        &["client", "add", "--domain", "https://Shop.Example.com/", "--public-url", "https://t.example.net"],
        None,
    );
    assert!(ok, "{err}");
    let client = process::field(&out, "clientId:").to_string();
    assert_eq!(process::field(&out, "domain:"), "shop.example.com");
    assert!(process::field(&out, "secret key:").starts_with("sk_"));
    assert!(out.contains(&format!("<script src=\"https://t.example.net/script/{client}.js\" async></script>")));

    let (ok, out, _) = process::run(&data, &["token", "create", "--name", "ops"], None);
    assert!(ok);
    let token = out.lines().map(str::trim).find(|l| l.starts_with("crm_")).unwrap().to_string();

    let (ok, _, err) = process::run(&data, &["user", "create", "--username", "ops"], Some("short\n"));
    assert!(!ok && err.contains("at least 10 characters"), "{err}");
    let (ok, _, err) = process::run(&data, &["user", "create", "--username", "ops"], None);
    assert!(!ok && err.contains("no password given on stdin"), "{err}");
    let (ok, out, err) = process::run(&data, &["user", "create", "--username", "ops"], Some("a first password\n"));
    assert!(ok, "{err}");
    assert!(out.contains("User ops created"), "{out}");
    // Running it again for the same name changes the password, and says so.
    let (ok, out, err) = process::run(&data, &["user", "create", "--username", "ops"], Some("correct horse battery\n"));
    assert!(ok, "{err}");
    assert!(out.contains("Password of existing user ops changed"), "{out}");

    // A second site for the same domain: the existing one's clientId and what to do.
    let (ok, _, err) = process::run(&data, &["client", "add", "--domain", "shop.example.com"], None);
    assert!(!ok && err.contains("already exists") && err.contains(&client), "{err}");
    assert!(err.contains(&format!("/v1/clients/{client}/rotate-key")), "{err}");

    let mut server = process::serve(&data, &[]);
    // While the server runs, one-off commands explain what to do instead: the API where
    // there is one, else stopping the server.
    let (ok, _, err) = process::run(&data, &["token", "create", "--name", "x"], None);
    assert!(!ok && err.contains("in use by a running server") && err.contains("POST /v1/tokens"), "{err}");
    let (ok, _, err) = process::run(&data, &["client", "add", "--domain", "other.example.com"], None);
    assert!(!ok && err.contains("POST /v1/clients"), "{err}");
    let (ok, _, err) = process::run(&data, &["user", "create", "--username", "late"], Some("correct horse battery\n"));
    assert!(!ok && err.contains("Stop the server first") && !err.contains("Admin API"), "{err}");
    let (ok, _, err) = process::run(&data, &["backup", "--out", dir.path().join("b.redb").to_str().unwrap()], None);
    assert!(!ok && err.contains("--server"), "{err}");
    let (ok, _, err) = process::run(&data, &["export", "leads"], None);
    assert!(!ok && err.contains("/v1/leads/export.csv"), "{err}");

    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/v1/track/batch", server.base))
        .header("Origin", "https://shop.example.com")
        .body(
            json!({"clientId": client, "events": [{"id": uuid::Uuid::now_v7().to_string(), "type": "form_submission",
            "fields": {"email": "cli@example.com", "message": "+cmd"}}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let login = http
        .post(format!("{}/v1/auth/login", server.base))
        .json(&json!({"username": "ops", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    // Online backup through the API.
    let online = dir.path().join("online.redb");
    let (ok, _, err) = process::run(
        &data,
        &["backup", "--server", &server.base, "--token", "crm_wrong", "--out", online.to_str().unwrap()],
        None,
    );
    assert!(!ok && err.contains("401") && err.contains("the bearer token is not valid"), "{err}");
    assert!(!online.exists());
    let (ok, _, err) = process::run(&data, &["backup", "--server", "127.0.0.1:1", "--out", "x.redb"], None);
    assert!(!ok && err.contains("--server must be a URL like http://127.0.0.1:8080"), "{err}");
    // A server that takes the connection and closes it unanswered (stopped or crashed while
    // making the snapshot) was reached: the message says it closed, not that it is unreachable.
    let closing = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closing_url = format!("http://{}", closing.local_addr().unwrap());
    let closer = std::thread::spawn(move || {
        let (mut stream, _) = closing.accept().unwrap();
        let mut request = [0u8; 1024];
        let _ = std::io::Read::read(&mut stream, &mut request);
    });
    let (ok, _, err) = process::run(
        &data,
        &["backup", "--server", &closing_url, "--token", &token, "--out", online.to_str().unwrap()],
        None,
    );
    closer.join().unwrap();
    assert!(!ok && err.contains("closed the connection before it answered") && !err.contains("cannot reach"), "{err}");
    assert!(!online.exists());
    let (ok, out, err) = process::run(
        &data,
        &["backup", "--server", &server.base, "--token", &token, "--out", online.to_str().unwrap()],
        None,
    );
    assert!(ok, "{err}");
    let size = std::fs::metadata(&online).unwrap().len();
    assert!(out.contains("Backed up") && out.contains(&format!("({size} bytes)")), "{out}");
    assert!(crm_tracker::store::backup::verify(&online).unwrap());
    #[cfg(unix)]
    assert_eq!(mode(&online), 0o600);
    // An existing --out is kept unless --force says otherwise.
    let args = ["backup", "--server", &server.base, "--token", &token, "--out", online.to_str().unwrap()];
    let (ok, _, err) = process::run(&data, &args, None);
    assert!(!ok && err.contains("already exists") && err.contains("--force"), "{err}");
    let (ok, _, err) = process::run(&data, &[&args[..], &["--force"]].concat(), None);
    assert!(ok, "{err}");

    let journal = crm_tracker::store::journal::journal_path(&data);
    assert!(journal.exists(), "a running server keeps its commits' journal");
    assert_eq!(server.terminate(), Some(0));
    assert!(!journal.exists(), "a clean stop leaves the data file alone");

    // Into a directory that does not exist yet: made, and said.
    let offline = dir.path().join("backups").join("offline.redb");
    let (ok, _, err) = process::run(&data, &["backup", "--out", offline.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert!(err.contains(&format!("Created the directory {}", dir.path().join("backups").display())), "{err}");
    assert!(crm_tracker::store::backup::verify(&offline).unwrap());
    #[cfg(unix)]
    assert_eq!(mode(&offline), 0o600);

    // A backup killed midway (a cron job's timeout) leaves its hidden temporary copy, as large
    // as the data file: the next backup into that directory removes those nobody has written
    // to for an hour, and leaves a running backup's (fresh) and other files alone.
    let backups = dir.path().join("backups");
    let abandoned = backups.join(".crm-backup-a1B2c3.redb");
    let running = backups.join(".crm-backup-d4E5f6.redb");
    let unrelated = backups.join(".crm-backup-notes.redb");
    for file in [&abandoned, &running, &unrelated] {
        std::fs::write(file, b"partial copy").unwrap();
    }
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for file in [&abandoned, &unrelated] {
        std::fs::File::options().write(true).open(file).unwrap().set_modified(two_hours_ago).unwrap();
    }
    let again = backups.join("again.redb");
    let (ok, _, err) = process::run(&data, &["backup", "--out", again.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert!(err.contains("Removed 1 temporary file(s) that interrupted backups left in"), "{err}");
    assert!(!abandoned.exists() && running.exists() && unrelated.exists());

    let (ok, csv, err) = process::run(&data, &["export", "leads", "--format", "csv"], None);
    assert!(ok, "{err}");
    assert!(csv.starts_with("leadId,"));
    assert!(csv.contains("cli@example.com") && csv.contains("'+cmd"));
    let (ok, nd, _) = process::run(&data, &["export", "leads", "--format", "ndjson", "--client", &client], None);
    assert!(ok);
    let lead: Value = serde_json::from_str(nd.lines().next().unwrap()).unwrap();
    assert_eq!(lead["email"], "cli@example.com");

    // To a file: only its owner may read it, an existing one is kept unless --force, and a
    // clientId no site has is named rather than exported as nothing.
    let file = dir.path().join("leads.csv");
    let args = ["export", "leads", "--out", file.to_str().unwrap()];
    let (ok, _, err) = process::run(&data, &args, None);
    assert!(ok && err.contains("Exported 1 leads"), "{err}");
    assert!(std::fs::read_to_string(&file).unwrap().contains("cli@example.com"));
    #[cfg(unix)]
    {
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&data), 0o600, "the data file holds personal data too");
    }
    let (ok, _, err) = process::run(&data, &args, None);
    assert!(!ok && err.contains("already exists") && err.contains("--force"), "{err}");
    let (ok, _, err) = process::run(&data, &[&args[..], &["--force"]].concat(), None);
    assert!(ok, "{err}");
    let nobody = uuid::Uuid::now_v7().to_string();
    let (ok, out, err) = process::run(&data, &["export", "leads", "--client", &nobody], None);
    assert!(
        !ok && out.is_empty() && err.contains(&format!("no site in {} has clientId {nobody}", data.display())),
        "{err}"
    );
}

#[test]
fn a_newer_data_file_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new.redb");
    {
        let db = redb::Database::create(&data).unwrap();
        crm_tracker::store::schema::migrate(&db).unwrap();
        crm_tracker::store::schema::force_version(&db, 99).unwrap();
    }
    let (ok, _, err) = process::run(&data, &["token", "create", "--name", "x"], None);
    assert!(!ok);
    assert!(err.contains("newer crm-tracker") && err.contains("99"), "{err}");
}

#[test]
fn bad_flags_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("x.redb");
    let (ok, _, err) = process::run(&data, &["serve", "--public-url", "tracker.example.com/path"], None);
    assert!(!ok && err.contains("--public-url"), "{err}");
    let (ok, _, err) = process::run(&data, &["client", "add", "--domain", "not a domain"], None);
    assert!(!ok && err.contains("domain"), "{err}");
    for listen in ["8080", ":8080", "localhost", "tracker.example.com:80"] {
        let (ok, _, err) = process::run(&data, &["serve", "--listen", listen], None);
        assert!(!ok && err.contains("use IP:PORT, e.g. 127.0.0.1:8080"), "{listen}: {err}");
    }
    let (ok, _, err) = run_env(&data, &["serve"], &[("CRM_TRACKER_DEMO", "maybe")]);
    assert!(!ok && err.contains("--demo") && err.contains("yes or no"), "{err}");
    // The retention interval's variable, under its new name and its old one.
    for var in ["CRM_TRACKER_RETENTION_INTERVAL_SECS", "CRM_TRACKER_RETENTION_INTERVAL"] {
        let (ok, _, err) = run_env(&data, &["serve", "--listen", "127.0.0.1:0"], &[(var, "0")]);
        assert!(!ok && err.contains("--retention-interval-secs must be at least 1"), "{var}: {err}");
    }
    assert!(!data.exists(), "a refused command created the data file");
}

#[test]
fn client_add_checks_its_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.redb");
    for bad in ["tracker.example.com", "https://t.example.com/sub\"onload=\"x", "https://t.example.com\"x"] {
        let (ok, out, err) =
            process::run(&data, &["client", "add", "--domain", "a.example", "--public-url", bad], None);
        assert!(!ok && out.is_empty(), "{bad}: {out}");
        assert!(err.contains("must be an http(s) URL without a path"), "{bad}: {err}");
    }
    // The same rule from the environment, for serve too.
    let (ok, _, err) = run_env(&data, &["serve"], &[("CRM_TRACKER_PUBLIC_URL", "tracker.example.com")]);
    assert!(!ok && err.contains("must be an http(s) URL without a path"), "{err}");

    // Without --public-url the snippet points where serve listens by default, and says so.
    let (ok, out, err) = process::run(&data, &["client", "add", "--domain", "a.example"], None);
    assert!(ok, "{err}");
    assert!(out.contains("<script src=\"http://127.0.0.1:8080/script/"), "{out}");
    assert!(err.contains("--public-url"), "{err}");
    let (ok, out, err) = process::run(
        &data,
        &["client", "add", "--domain", "b.example", "--public-url", "HTTPS://T.Example.com/"],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("<script src=\"https://t.example.com/script/"), "{out}");
    assert!(!err.contains("--public-url"), "{err}");
}

#[test]
fn read_only_commands_need_an_existing_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope").join("x.redb");
    let out = dir.path().join("out.redb");
    for args in [&["export", "leads"][..], &["backup", "--out", out.to_str().unwrap()]] {
        let (ok, stdout, err) = process::run(&missing, args, None);
        assert!(!ok && stdout.is_empty(), "{args:?}: {stdout}");
        assert!(err.contains(&format!("no data file at {}", missing.display())), "{args:?}: {err}");
    }
    assert!(!dir.path().join("nope").exists() && !out.exists());
}

#[test]
fn backup_and_export_never_overwrite_the_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.redb");
    let (ok, _, err) = process::run(&data, &["token", "create", "--name", "x"], None);
    assert!(ok, "{err}");
    let before = std::fs::read(&data).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let other_path = dir.path().join("sub").join("..").join("d.redb");
    let mut same = vec![data.clone(), other_path];
    #[cfg(unix)]
    {
        let link = dir.path().join("link.redb");
        std::os::unix::fs::symlink(&data, &link).unwrap();
        same.push(link);
    }
    for out in &same {
        let out = out.to_str().unwrap();
        let (ok, _, err) = process::run(&data, &["backup", "--out", out, "--force"], None);
        assert!(!ok && err.contains("is the data file itself"), "{out}: {err}");
        let (ok, _, err) = process::run(&data, &["export", "leads", "--out", out], None);
        assert!(!ok && err.contains("is the data file itself"), "{out}: {err}");
    }
    let sub = format!("{}/", dir.path().join("sub").display());
    let (ok, _, err) = process::run(&data, &["backup", "--out", &sub], None);
    assert!(!ok && err.contains("is a directory"), "{err}");
    // A journal's name would be deleted by the next open of a data file beside it.
    let journal = dir.path().join("x.redb-journal");
    let (ok, _, err) = process::run(&data, &["backup", "--out", journal.to_str().unwrap()], None);
    assert!(!ok && err.contains("ends in -journal"), "{err}");
    assert!(!journal.exists());
    assert_eq!(std::fs::read(&data).unwrap(), before);
}

#[test]
fn export_and_backup_read_a_read_only_data_file_without_changing_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.redb");
    let (ok, _, err) = process::run(&data, &["client", "add", "--domain", "ro.example"], None);
    assert!(ok, "{err}");
    let before = std::fs::read(&data).unwrap();
    let mut permissions = std::fs::metadata(&data).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&data, permissions).unwrap();
    let (ok, csv, err) = process::run(&data, &["export", "leads"], None);
    assert!(ok && csv.starts_with("leadId,"), "{err}");
    let out = dir.path().join("b.redb");
    let (ok, _, err) = process::run(&data, &["backup", "--out", out.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert!(crm_tracker::store::backup::verify(&out).unwrap());
    assert_eq!(std::fs::read(&data).unwrap(), before);
}

#[test]
fn a_bad_log_level_is_named_and_logs_stay_plain_when_redirected() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.redb");
    let (ok, _, err) = run_env(&data, &["token", "create", "--name", "x"], &[("CRM_TRACKER_LOG", "verbose")]);
    assert!(ok, "{err}");
    assert!(err.contains("CRM_TRACKER_LOG=\"verbose\" is not a log level"), "{err}");
    assert!(err.contains("WARN") && !err.contains('\x1b'), "{err:?}");
}

#[test]
fn serve_takes_localhost_and_yes_no_words_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.redb");
    let mut child = process::bin()
        .arg("--data")
        .arg(&data)
        .args(["serve", "--listen", "localhost:0"])
        .env("CRM_TRACKER_DEMO", "1")
        .env("CRM_TRACKER_TRUST_PROXY", "off")
        .env("CRM_TRACKER_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        seen.push(line);
        if seen.last().unwrap().contains("Demo ready") {
            break;
        }
    }
    let addr = seen
        .iter()
        .find_map(|l| l.strip_prefix("crm-tracker listening on http://"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {seen:?}"))
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    // Once it answers, it is serving and handles SIGTERM gracefully.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(&mut stream, b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"), "{answer}");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert!(seen.iter().any(|l| l.contains("Demo ready")), "{seen:?}");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_busy_address_is_named_and_leaves_no_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new.redb");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let (ok, _, err) = process::run(&data, &["serve", "--listen", &addr], None);
    assert!(!ok);
    assert!(err.contains(&format!("cannot listen on {addr}")) && err.contains("--listen"), "{err}");
    assert!(!data.exists(), "no data file is created for a server that cannot start");
}

/// Started with a soft open-file limit of 256 (a service manager's default is often 1,024),
/// the server raises it to the hard limit; when even the hard limit is low, it says so.
#[cfg(target_os = "linux")]
#[test]
fn serve_raises_its_open_file_limit() {
    use std::os::unix::process::CommandExt;
    let mut hard = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct it is given.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut hard) }, 0);
    // Starts a server with these limits; returns its soft and hard limit as /proc shows
    // them, and what it logged.
    let serve = |soft: libc::rlim_t, max: libc::rlim_t| {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = process::bin();
        cmd.arg("--data")
            .arg(dir.path().join("d.redb"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: only setrlimit (async-signal-safe) runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let low = libc::rlimit { rlim_cur: soft, rlim_max: max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &low) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let listening = lines.next().unwrap().unwrap();
        assert!(listening.starts_with("crm-tracker listening"), "{listening}");
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
        let files = limits.lines().find(|l| l.starts_with("Max open files")).unwrap().to_string();
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        let values: Vec<String> = files.split_whitespace().skip(3).take(2).map(str::to_string).collect();
        (values, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let max = hard.rlim_max;
    let shown = if max == libc::RLIM_INFINITY { "unlimited".to_string() } else { max.to_string() };
    let (values, _) = serve(256, max);
    assert_eq!(values, [shown.clone(), shown], "soft and hard open-file limits");
    let (values, logged) = serve(512, 512);
    assert_eq!(values, ["512", "512"]);
    assert!(logged.contains("only 512 open files") && logged.contains("LimitNOFILE"), "{logged}");
}

/// The server opts out of transparent huge pages: with them its resident memory after the
/// load generator was a third higher (each 2 MiB page counts whole once touched).
#[cfg(target_os = "linux")]
#[test]
fn serve_opts_out_of_transparent_huge_pages() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = process::bin()
        .arg("--data")
        .arg(dir.path().join("d.redb"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn server");
    let listening = BufReader::new(child.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    assert!(listening.starts_with("crm-tracker listening"), "{listening}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let line = status.lines().find(|l| l.starts_with("THP_enabled:"));
    // The field is there since Linux 5.0; this test's own process has THP allowed.
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    assert!(own.lines().any(|l| l.starts_with("THP_enabled:")), "this kernel does not report THP_enabled");
    assert_eq!(line.map(|l| l.split_whitespace().nth(1)), Some(Some("0")), "{line:?}");
}

/// A `serve --demo` start: its address, admin token and dashboard password, as printed.
struct DemoStart {
    child: std::process::Child,
    base: String,
    token: String,
    password: String,
}

/// Starts `serve` on `data` (with `--demo` when `demo`) and reads what it prints up to the
/// line that ends its start-up message.
fn start(data: &Path, demo: bool) -> (std::process::Child, Vec<String>) {
    let mut cmd = process::bin();
    cmd.arg("--data").arg(data).args(["serve", "--listen", "127.0.0.1:0"]);
    if demo {
        cmd.arg("--demo");
    }
    let mut child =
        cmd.env("CRM_TRACKER_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let last = if demo { line.starts_with("  try:") } else { line.starts_with("crm-tracker listening") };
        seen.push(line);
        if last {
            break;
        }
    }
    // Not demo: the retirement notice, if any, follows the address line.
    if !demo && let Some(Ok(line)) = lines.next() {
        seen.push(line);
    }
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, seen)
}

fn start_demo(data: &Path) -> DemoStart {
    let (child, seen) = start(data, true);
    let after = |prefix: &str| {
        seen.iter()
            .find_map(|l| l.trim_start().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {seen:?}"))
            .trim()
            .to_string()
    };
    let base = after("crm-tracker listening on").split_whitespace().next().unwrap().to_string();
    let token = after("admin API token:");
    let dashboard = after("dashboard:");
    let password = dashboard.split("password: ").nth(1).unwrap().trim_end_matches(')').to_string();
    DemoStart { child, base, token, password }
}

/// SIGTERM once the server answers (before, the signal ends a starting process at once).
fn stop(child: &mut std::process::Child, base: &str) {
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    std::io::Write::write_all(&mut stream, b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    std::io::Read::read_to_string(&mut stream, &mut String::new()).unwrap();
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// The demo's token and password are printed to a terminal; on a later start without
/// `--demo` on the same file they stop working (a logged-in dashboard too), and the demo
/// pages are gone. The demo site's leads stay.
#[tokio::test]
async fn a_start_without_demo_retires_the_demo_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.redb");
    let http = reqwest::Client::new();
    let mut demo = start_demo(&data);
    let leads = format!("{}/v1/leads", demo.base);
    let status = http.get(&leads).bearer_auth(&demo.token).send().await.unwrap().status();
    assert_eq!(status, 200);
    let login = http
        .post(format!("{}/v1/auth/login", demo.base))
        .json(&json!({"username": "demo", "password": demo.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert_eq!(http.get(&leads).header("cookie", &cookie).send().await.unwrap().status(), 200);
    assert_eq!(http.get(format!("{}/demo", demo.base)).send().await.unwrap().status(), 200);
    stop(&mut demo.child, &demo.base);

    let (mut plain, seen) = start(&data, false);
    assert!(seen.iter().any(|l| l.contains("no longer work")), "{seen:?}");
    let base = seen[0].strip_prefix("crm-tracker listening on ").unwrap().split_whitespace().next().unwrap();
    let leads = format!("{base}/v1/leads");
    assert_eq!(http.get(&leads).bearer_auth(&demo.token).send().await.unwrap().status(), 401);
    assert_eq!(http.get(&leads).header("cookie", &cookie).send().await.unwrap().status(), 401);
    let login = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"username": "demo", "password": demo.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);
    assert_eq!(http.get(format!("{base}/demo")).send().await.unwrap().status(), 404);
    stop(&mut plain, base);

    // Said once: the next start has nothing to retire.
    let (mut plain, seen) = start(&data, false);
    assert!(!seen.iter().any(|l| l.contains("no longer work")), "{seen:?}");
    let base = seen[0].strip_prefix("crm-tracker listening on ").unwrap().split_whitespace().next().unwrap();
    stop(&mut plain, base);

    // The demo again: new credentials work, the old ones stay dead.
    let mut again = start_demo(&data);
    let leads = format!("{}/v1/leads", again.base);
    assert_eq!(http.get(&leads).bearer_auth(&again.token).send().await.unwrap().status(), 200);
    assert_eq!(http.get(&leads).bearer_auth(&demo.token).send().await.unwrap().status(), 401);
    stop(&mut again.child, &again.base);

    // A demo an older build made noted nothing: its `demo` login beside the demo site and
    // its "demo" tokens are retired all the same.
    {
        let db = redb::Database::open(&data).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(crm_tracker::store::tables::META).unwrap().remove("demo_token").unwrap();
        txn.commit().unwrap();
    }
    let (mut plain, seen) = start(&data, false);
    assert!(seen.iter().any(|l| l.contains("no longer work")), "{seen:?}");
    let base = seen[0].strip_prefix("crm-tracker listening on ").unwrap().split_whitespace().next().unwrap();
    let status = http.get(format!("{base}/v1/leads")).bearer_auth(&again.token).send().await.unwrap().status();
    assert_eq!(status, 401);
    stop(&mut plain, base);
}

#[test]
fn an_export_whose_reader_stops_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.redb");
    let (ok, _, err) = process::run(&data, &["client", "add", "--domain", "pipe.example"], None);
    assert!(ok, "{err}");
    // `export leads | head -1` where head is gone before the export writes.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = process::bin()
        .arg("--data")
        .arg(&data)
        .args(["export", "leads"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "{:?}: {stderr}", out.status);
}
