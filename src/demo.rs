//! `serve --demo`: a ready-to-try setup on the embedded defaults: a site for `localhost`,
//! an admin token and a dashboard login (both new on every start, printed once), and the
//! demo landing page at `/demo`.

use crate::app::{App, secrets};
use crate::domain::site::{ClientInput, ConfigInput};
use crate::store::{accounts, queries};

pub const DEMO_DOMAIN: &str = "localhost";
pub const DEMO_USER: &str = "demo";
const DEMO_SITE_NAME: &str = "Demo site";
/// The hidden field of the demo page's contact form (assets/demo/index.html).
const DEMO_HONEYPOT: &str = "website";

/// Creates (idempotently) the demo site; replaces the demo token and password.
pub async fn setup(app: &App, base: &str) -> anyhow::Result<()> {
    let existing = app.read(|txn| queries::client_by_domain(txn, DEMO_DOMAIN)).await?;
    let client = match existing {
        Some(c) => c,
        None => {
            let input = ClientInput {
                domain: Some(DEMO_DOMAIN.into()),
                name: Some(DEMO_SITE_NAME.into()),
                ..Default::default()
            };
            app.create_client(input).await?.0
        }
    };
    // The page is opened at the address the server prints; let that origin send events too
    // (the demo site's domain is `localhost`, the default address 127.0.0.1). The demo page's
    // contact form has a hidden `website` honeypot: the site must name it for the quality
    // rule to see a bot filling it in.
    let needs_origin = !crate::domain::origin::is_allowed(&client, base);
    let needs_honeypot = client.config.honeypot_field.is_none();
    if needs_origin || needs_honeypot {
        let mut origins = client.config.allowed_origins.clone();
        if needs_origin {
            origins.push(base.to_string());
        }
        let config = ConfigInput {
            allowed_origins: Some(origins),
            honeypot_field: needs_honeypot.then(|| Some(DEMO_HONEYPOT.to_string())),
            ..Default::default()
        };
        app.update_client(client.client_id, ClientInput { config: Some(config), ..Default::default() }).await?;
    }
    let (record, token) = app.replace_token("demo").await?;
    let password = secrets::generate("")[..20].to_string();
    app.create_user(DEMO_USER, &password).await?;
    // The new password ended the sessions of the old one; a later start without --demo
    // finds the token noted and retires both.
    let id = *record.token_id.as_bytes();
    app.write(move |txn| accounts::set_demo_token(txn, Some(&id))).await?;
    println!();
    println!("Demo ready (the token and password are new on every start; earlier ones stop working):");
    println!("  landing page with tracked forms:  {base}/demo");
    println!("  dashboard:                        {base}/admin   (user: {DEMO_USER}, password: {password})");
    println!("  admin API token:                  {token}");
    println!("  demo site clientId:               {}", client.client_id);
    println!("  try:  curl -H 'Authorization: Bearer {token}' {base}/v1/leads");
    println!();
    Ok(())
}

/// On a start without `--demo`: the admin token and dashboard login an earlier `--demo`
/// start made on this data file stop working (their secrets were printed to a terminal,
/// and a demo is not meant to guard real leads). The demo site and its leads stay.
/// Whether there was anything to retire.
pub async fn retire(app: &App) -> anyhow::Result<bool> {
    let noted = app.read(accounts::demo_token).await?;
    match noted {
        Some(token) => match app.revoke_token(uuid::Uuid::from_bytes(token)).await {
            Ok(_) => {}
            // Revoked or deleted through the API since.
            Err(crate::app::AppError::Store(crate::store::StoreError::NotFound(_))) => {}
            Err(e) => return Err(e.into()),
        },
        // Builds before the note made their demo the same way: the `demo` login beside the
        // `localhost` demo site, and tokens named "demo".
        None => {
            let left = app
                .read(|txn| {
                    let site = queries::client_by_domain(txn, DEMO_DOMAIN)?;
                    let user = accounts::get_user(txn, DEMO_USER)?;
                    Ok(site.is_some_and(|c| c.name == DEMO_SITE_NAME) && user.is_some())
                })
                .await?;
            if !left {
                return Ok(false);
            }
            let now = crate::domain::time::Timestamp::now();
            app.write(move |txn| crate::store::admin::revoke_tokens_named(txn, "demo", now)).await?;
            app.forget_revoked_tokens().await?;
        }
    }
    app.write(|txn| {
        accounts::delete_user(txn, DEMO_USER)?;
        accounts::set_demo_token(txn, None)
    })
    .await?;
    Ok(true)
}
