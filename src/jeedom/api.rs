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

/// Where Jeedom's core key is, for every message about the key.
const KEY_PLACE: &str = "Jeedom: Settings → System → Configuration → API, \"Clé API\"";

/// The `result` of an answer to `method` sent to `url`, or the error it
/// carries. The codes (−32000 − Jeedom's, contract §1), never the messages,
/// say what went wrong: −32001 the API is off for this key or address,
/// −32002 a wrong key (both `auth_required`); −32500 a method this key may
/// not run, −32701 a right it lacks (the core key has them all); anything
/// else is `rejected`, naming the method and Jeedom's words.
pub fn read_answer(url: &str, method: &str, response: &HttpResponse) -> Result<Value> {
    match response.status {
        200 => {}
        // Jeedom's API always answers 200; 404 is a path that is not Jeedom's
        // API, or an address banned for 10 minutes (contract §1).
        404 => {
            return Err(Error::invalid_config(format!(
                "Jeedom answered 404 at {url}: jeedom.url must be the address you open Jeedom at (e.g. https://jeedom.local, or ending in /jeedom), the part before /core/api. (A Jeedom also answers 404 for 10 minutes to an address banned after repeated failed logins.)"
            ))
            .provider(PROVIDER)
            .status(404))
        }
        status if status >= 500 => return Err(Error::new(ErrorCode::Unavailable, format!("Jeedom answered {status}: try again later")).provider(PROVIDER).status(status)),
        status => return Err(Error::new(ErrorCode::UnexpectedStatus, format!("Jeedom answered {status} to {method} at {url}")).provider(PROVIDER).status(status)),
    }
    let answer: Value = serde_json::from_str(&response.body)
        .map_err(|_| Error::new(ErrorCode::BadResponse, format!("the answer of {url} to {method} is not JSON-RPC: is jeedom.url the address of the Jeedom box?")).provider(PROVIDER))?;
    if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
        let code = error.get("code").and_then(|c| c.as_i64().or_else(|| c.as_str()?.trim().parse().ok())).unwrap_or(0);
        let message: String = error.get("message").and_then(Value::as_str).unwrap_or("").chars().take(300).collect();
        return Err(match code {
            -32001 => Error::new(
                ErrorCode::AuthRequired,
                format!("Jeedom's API is off for this key or this machine: in {KEY_PLACE}, set the key's API access to \"Activé\" (or allow this machine's address), then run again"),
            ),
            -32002 => Error::new(
                ErrorCode::AuthRequired,
                format!("Jeedom refused the API key: copy it from {KEY_PLACE} into WATTBRIDGE_JEEDOM_API_KEY or `wattbridge config init`"),
            ),
            -32500 => Error::new(
                ErrorCode::Rejected,
                format!("Jeedom refused {method}: {message} (code {code}). wattbridge needs Jeedom 4 and its core API key ({KEY_PLACE}), not a plugin's key with restricted access"),
            ),
            -32701 => Error::new(ErrorCode::Rejected, format!("Jeedom refused {method}: {message} (code {code}). The key lacks that right: use Jeedom's core API key ({KEY_PLACE})")),
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

        let url = "http://127.0.0.1:9/jeedom/core/api/jeeApi.php";
        let refused = HttpResponse::new(200, r#"{"jsonrpc":"2.0","id":"7","error":{"code":-32002,"message":"Vous n'êtes pas autorisé"}}"#);
        let err = read_answer(url, "ping", &refused).unwrap_err();
        assert_eq!(err.code, ErrorCode::AuthRequired);
        assert!(err.message.contains("refused the API key") && err.message.contains("Settings → System → Configuration → API"), "{}", err.message);
        let invalid = HttpResponse::new(200, r#"{"jsonrpc":"2.0","id":"7","error":{"code":-32702,"message":"Commande introuvable : 9"}}"#);
        let err = read_answer(url, "cmd::event", &invalid).unwrap_err();
        assert_eq!(err.code, ErrorCode::Rejected);
        assert!(err.message.contains("cmd::event") && err.message.contains("Commande introuvable : 9"), "{}", err.message);
        assert_eq!(read_answer(url, "ping", &HttpResponse::new(200, r#"{"jsonrpc":"2.0","id":"1","result":"pong"}"#)).unwrap(), json!("pong"));
        assert_eq!(read_answer(url, "ping", &HttpResponse::new(502, "")).unwrap_err().code, ErrorCode::Unavailable);
    }

    #[test]
    fn each_refusal_says_what_to_change() {
        let url = "https://jeedom.lan/core/api/jeeApi.php";
        let error = |code: &str| HttpResponse::new(200, format!(r#"{{"jsonrpc":"2.0","id":"3","error":{{"code":{code},"message":"Jeedom's words"}}}}"#));
        // −32001 with a key sent: the key's access mode (disabled, localhost, white IP) shuts this machine out.
        let off = read_answer(url, "eqLogic::byType", &error("-32001")).unwrap_err();
        assert_eq!(off.code, ErrorCode::AuthRequired);
        assert!(off.message.contains("API is off") && !off.message.contains("refused the API key"), "{}", off.message);
        // A code as a string is the same code.
        assert_eq!(read_answer(url, "eqLogic::byType", &error(r#""-32001""#)).unwrap_err().message, off.message);
        // −32500: a restricted plugin key (or a method an old Jeedom lacks); −32701: a right the key lacks.
        let restricted = read_answer(url, "jeeObject::all", &error("-32500")).unwrap_err();
        assert_eq!(restricted.code, ErrorCode::Rejected);
        assert!(restricted.message.contains("Jeedom's words") && restricted.message.contains("core API key"), "{}", restricted.message);
        let no_right = read_answer(url, "eqLogic::save", &error("-32701")).unwrap_err();
        assert!(no_right.message.contains("lacks that right") && no_right.message.contains("core API key"), "{}", no_right.message);
        // 404: not Jeedom's API at that address; the message shows the URL tried (it holds no key).
        let missing = read_answer(url, "config::byKey", &HttpResponse::new(404, "Not Found")).unwrap_err();
        assert_eq!((missing.code, missing.status), (ErrorCode::InvalidConfig, Some(404)));
        assert!(missing.message.contains(url) && missing.message.contains("banned"), "{}", missing.message);
        let html = read_answer(url, "config::byKey", &HttpResponse::new(200, "<html>router login</html>")).unwrap_err();
        assert_eq!(html.code, ErrorCode::BadResponse);
        assert!(html.message.contains(url), "{}", html.message);
    }
}
