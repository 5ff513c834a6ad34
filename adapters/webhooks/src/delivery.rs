//! One HTTP delivery: the POST of a rendered ledger entry with its signature and headers, and
//! what the receiver's answer means. Only a 2xx answer delivers; anything else (another status,
//! a redirect, a timeout, a refused connection) is a failed attempt described in one line.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, CONTENT_TYPE, USER_AGENT};
use reqwest::{Client, Url};

use crate::egress::{EgressPolicy, EgressRefused, EgressResolver};
use crate::error::WebhookError;
use crate::signature::{
    signature_header, EVENT_TYPE_HEADER, POSITION_HEADER, SIGNATURE_HEADER, SUBSCRIPTION_HEADER,
};

const AGENT: &str = concat!("obliged-webhooks/", env!("CARGO_PKG_VERSION"));

/// The HTTP client of deliveries and the egress policy it keeps to.
pub(crate) struct Deliverer {
    client: Client,
    policy: Arc<EgressPolicy>,
}

pub(crate) fn client(
    request_timeout: Duration,
    policy: &EgressPolicy,
) -> Result<Deliverer, WebhookError> {
    let policy = Arc::new(policy.clone());
    let client = Client::builder()
        .timeout(request_timeout)
        // A redirect would turn the POST into a GET on 301/302 and send the signed body
        // somewhere the subscriber never registered: a redirect is a failed attempt.
        .redirect(reqwest::redirect::Policy::none())
        // A proxy from the environment would resolve names itself, past the policy.
        .no_proxy()
        .dns_resolver(Arc::new(EgressResolver {
            policy: policy.clone(),
        }))
        .build()
        .map_err(|error| WebhookError::HttpClient(error.to_string()))?;
    Ok(Deliverer { client, policy })
}

/// What to send for one entry.
pub(crate) struct Request<'a> {
    pub url: &'a str,
    pub subscription: &'a str,
    pub secret: &'a str,
    pub position: u64,
    pub event_type: &'a str,
    pub body: Vec<u8>,
    pub unix_seconds: i64,
}

/// Sends one delivery. `Ok(status)` for a 2xx answer, otherwise the reason it failed.
pub(crate) async fn send(deliverer: &Deliverer, request: Request<'_>) -> Result<u16, String> {
    let url = Url::parse(request.url).map_err(|error| format!("invalid url: {error}"))?;
    // A host written as an address never reaches the resolver, so it is checked here; names
    // are checked by the resolver, on the addresses the connection will use.
    deliverer
        .policy
        .check_address_host(&url)
        .map_err(|refused| refused.to_string())?;
    let client = &deliverer.client;
    let event_type = HeaderValue::from_str(request.event_type)
        .map_err(|_| format!("event type {:?} cannot be a header", request.event_type))?;
    let signature = signature_header(request.secret, request.unix_seconds, &request.body);
    let response = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, AGENT)
        .header(SIGNATURE_HEADER, signature)
        .header(POSITION_HEADER, request.position.to_string())
        .header(EVENT_TYPE_HEADER, event_type)
        .header(SUBSCRIPTION_HEADER, request.subscription)
        .body(request.body)
        .send()
        .await
        .map_err(describe)?;
    let status = response.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        // The body is not read: a receiver's error page can be large, and the status says
        // enough for an operator to start from.
        Err(format!("the receiver answered HTTP {status}"))
    }
}

/// A transport error in one line an operator can act on, without the URL (its query string may
/// carry the receiver's own credentials) and without the operating system's words for what
/// answered ("connection refused", "connection closed before message completed"), which would
/// tell a subscriber which ports are open where obliged runs. An egress refusal names the host.
fn describe(error: reqwest::Error) -> String {
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<EgressRefused>() {
            return refused.to_string();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "timed out waiting for the receiver".to_owned()
    } else if error.is_connect() {
        "could not connect to the receiver".to_owned()
    } else {
        "the receiver did not answer the request".to_owned()
    }
}
