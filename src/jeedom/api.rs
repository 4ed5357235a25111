//! JSON-RPC 2.0 requests to `jeeApi.php` and the reading of their answers.
//!
//! The API key travels in the body (`params.apikey`), never in the URL, which
//! proxies and Jeedom's own `api` log keep. Jeedom answers HTTP 200 whatever
//! happened; an error is `{error: {code, message}}` with `code` = −32000 − the
//! thrown code (contract §1): −32001 no key or API disabled, −32002 a wrong key.

use super::PROVIDER;
use crate::core::http::check_service_url;
use crate::core::{Error, ErrorCode, HttpRequest, HttpResponse, Method, Result, Secret};
use serde_json::{json, Map, Value};

/// Jeedom's answers of a pusher are small (an equipment and its commands).
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// `{base}/core/api/jeeApi.php`; the base may end in `/jeedom` (contract §1).
pub fn endpoint(base: &str) -> Result<String> {
    let base = base.trim().trim_end_matches('/');
    // The API's own URL, pasted from Jeedom's page, names the same box.
    let base = base.strip_suffix("/core/api/jeeApi.php").unwrap_or(base);
    check_service_url("jeedom.url", base).map_err(|e| e.provider(PROVIDER))?;
    Ok(format!("{base}/core/api/jeeApi.php"))
}

/// One call: `params` with the key added as `apikey`; `id` a string, as
/// Jeedom hands ids back.
pub fn request(url: &str, id: u64, method: &str, params: Map<String, Value>, key: &Secret) -> HttpRequest {
    let mut params = params;
    params.insert("apikey".into(), key.expose().into());
    let body = json!({ "jsonrpc": "2.0", "id": id.to_string(), "method": method, "params": params });
    HttpRequest::new(Method::Post, url).max_body(MAX_ANSWER_BYTES).json_body(body.to_string())
}

/// The `result` of an answer, or the error it carries: `auth_required` for a
/// refused key, `rejected` naming the method and Jeedom's message otherwise.
pub fn read_answer(method: &str, response: &HttpResponse) -> Result<Value> {
    match response.status {
        200 => {}
        // A banned address gets 404 for 10 minutes (contract §1).
        404 => {
            return Err(Error::new(ErrorCode::Unavailable, "Jeedom answered 404: check jeedom.url (it ends before /core/api), or this address is banned for 10 minutes after repeated failures")
                .provider(PROVIDER)
                .status(404))
        }
        status if status >= 500 => return Err(Error::new(ErrorCode::Unavailable, format!("Jeedom answered {status}: try again later")).provider(PROVIDER).status(status)),
        status => return Err(Error::new(ErrorCode::UnexpectedStatus, format!("Jeedom answered {status} to {method}")).provider(PROVIDER).status(status)),
    }
    let answer: Value = serde_json::from_str(&response.body)
        .map_err(|_| Error::new(ErrorCode::BadResponse, format!("Jeedom's answer to {method} is not JSON: is jeedom.url the Jeedom box?")).provider(PROVIDER))?;
    if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
        let code = error.get("code").and_then(|c| c.as_i64().or_else(|| c.as_str()?.parse().ok())).unwrap_or(0);
        let message: String = error.get("message").and_then(Value::as_str).unwrap_or("").chars().take(300).collect();
        return Err(match code {
            -32001 | -32002 => Error::new(
                ErrorCode::AuthRequired,
                "Jeedom refused the API key: copy it from Jeedom (Settings → System → Configuration → API) into WATTBRIDGE_JEEDOM_API_KEY or `wattbridge config init`, and check that the API is enabled",
            ),
            _ => Error::new(ErrorCode::Rejected, format!("Jeedom refused {method}: {message} (code {code})")),
        }
        .provider(PROVIDER));
    }
    answer.get("result").cloned().ok_or_else(|| Error::new(ErrorCode::BadResponse, format!("Jeedom's answer to {method} has neither result nor error")).provider(PROVIDER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_goes_in_the_body_and_errors_keep_jeedom_s_words() {
        let key = Secret::new("k3y");
        let request = request(&endpoint("http://127.0.0.1:9/jeedom/").unwrap(), 7, "ping", Map::new(), &key);
        assert_eq!(request.url, "http://127.0.0.1:9/jeedom/core/api/jeeApi.php");
        let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, json!({"jsonrpc": "2.0", "id": "7", "method": "ping", "params": {"apikey": "k3y"}}));
        assert!(endpoint("http://jeedom.lan").is_err(), "plain http only on loopback");
        assert_eq!(endpoint("https://jeedom.lan/core/api/jeeApi.php").unwrap(), "https://jeedom.lan/core/api/jeeApi.php");

        let refused = HttpResponse::new(200, r#"{"jsonrpc":"2.0","id":"7","error":{"code":-32002,"message":"Vous n'êtes pas autorisé"}}"#);
        assert_eq!(read_answer("ping", &refused).unwrap_err().code, ErrorCode::AuthRequired);
        let invalid = HttpResponse::new(200, r#"{"jsonrpc":"2.0","id":"7","error":{"code":-32702,"message":"Commande introuvable : 9"}}"#);
        let err = read_answer("cmd::event", &invalid).unwrap_err();
        assert_eq!(err.code, ErrorCode::Rejected);
        assert!(err.message.contains("cmd::event") && err.message.contains("Commande introuvable : 9"), "{}", err.message);
        assert_eq!(read_answer("ping", &HttpResponse::new(200, r#"{"jsonrpc":"2.0","id":"1","result":"pong"}"#)).unwrap(), json!("pong"));
        assert_eq!(read_answer("ping", &HttpResponse::new(502, "")).unwrap_err().code, ErrorCode::Unavailable);
    }
}
