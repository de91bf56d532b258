//! The command line as a user runs it.

#[path = "common/process.rs"]
mod process;

use serde_json::{Value, json};

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
    let (ok, out, err) = process::run(&data, &["user", "create", "--username", "ops"], Some("correct horse battery\n"));
    assert!(ok, "{err}");
    assert!(out.contains("ops"));

    let mut server = process::serve(&data, &[]);
    // While the server runs, one-off commands explain what to do instead.
    let (ok, _, err) = process::run(&data, &["token", "create", "--name", "x"], None);
    assert!(!ok && err.contains("in use by a running server"), "{err}");
    let (ok, _, err) = process::run(&data, &["backup", "--out", dir.path().join("b.redb").to_str().unwrap()], None);
    assert!(!ok && err.contains("--server"), "{err}");

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
    let (ok, out, err) = process::run(
        &data,
        &["backup", "--server", &server.base, "--token", &token, "--out", online.to_str().unwrap()],
        None,
    );
    assert!(ok, "{err}");
    assert!(out.contains("Backed up"));
    assert!(crm_tracker::store::backup::verify(&online).unwrap());

    assert_eq!(server.terminate(), Some(0));

    let offline = dir.path().join("offline.redb");
    let (ok, _, err) = process::run(&data, &["backup", "--out", offline.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert!(crm_tracker::store::backup::verify(&offline).unwrap());

    let (ok, csv, err) = process::run(&data, &["export", "leads", "--format", "csv"], None);
    assert!(ok, "{err}");
    assert!(csv.starts_with("leadId,"));
    assert!(csv.contains("cli@example.com") && csv.contains("'+cmd"));
    let (ok, nd, _) = process::run(&data, &["export", "leads", "--format", "ndjson", "--client", &client], None);
    assert!(ok);
    let lead: Value = serde_json::from_str(nd.lines().next().unwrap()).unwrap();
    assert_eq!(lead["email"], "cli@example.com");
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
}
