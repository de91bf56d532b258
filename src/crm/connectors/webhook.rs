//! Webhooks signed per the Standard Webhooks scheme (standardwebhooks.com):
//! `webhook-id` (the job's idempotency key, the same on every retry, so a receiver can drop
//! repeats), `webhook-timestamp` (unix seconds at sending) and
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, where the
//! key is the base64-decoded part of the `whsec_` secret after its prefix.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Delivery, Work, send};
use crate::crm::config::WebhookConfig;
use crate::crm::payload;
use crate::domain::time::Timestamp;

/// `v1,<signature>` for one message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// The message for a job. The timestamp is the real clock's: receivers compare it with
/// theirs to refuse replays.
fn body(work: &Work<'_>, now: Timestamp) -> Value {
    match work {
        Work::Upsert { lead, mapped } => payload::webhook_upsert(lead, mapped, now),
        Work::Delete { lead_id, client_id, crm_id, email } => {
            payload::webhook_erased(*lead_id, *client_id, *email, *crm_id, now)
        }
    }
}

pub async fn deliver(http: &reqwest::Client, cfg: &WebhookConfig, id: &str, work: &Work<'_>) -> Delivery {
    let now = Timestamp::now();
    let body = match serde_json::to_vec(&body(work, now)) {
        Ok(b) => b,
        Err(e) => return Delivery::Rejected { status: None, error: format!("could not encode the message: {e}") },
    };
    let ts = now.millis().div_euclid(1000);
    let signature = sign(&cfg.key(), id, ts, &body);
    let request = http
        .post(&cfg.url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body);
    match send(request, "POST").await {
        Ok(answer) if answer.ok() => {
            Delivery::Delivered { status: answer.status, crm_id: None, note: format!("accepted: {}", answer.body) }
        }
        Ok(answer) => answer.failure("POST"),
        Err(d) => d,
    }
}

pub fn plan(cfg: &WebhookConfig, id: &str, work: &Work<'_>) -> Vec<Value> {
    vec![json!({
        "method": "POST",
        "url": cfg.url,
        "headers": {
            "content-type": "application/json",
            "webhook-id": id,
            "webhook-timestamp": "<unix seconds when sent>",
            "webhook-signature": "v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">",
        },
        "body": body(work, Timestamp::now()),
    })]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signature_matches_the_reference_example() {
        let key = BASE64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
