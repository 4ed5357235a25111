//! Debug logging of the traffic, off unless the JS side installs a logger
//! (`WATTBRIDGE_DEBUG=1` in Node, `setDebugLogger` anywhere). Lines name the
//! method, the URL without its query, the status and the time taken: never a
//! header or a body, so no token, password or secret can reach a log.

use js_sys::Function;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static LOGGER: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Install (or with `null`, remove) the function that receives debug lines.
#[wasm_bindgen(js_name = setDebugLogger)]
pub fn set_debug_logger(logger: Option<Function>) {
    LOGGER.with(|slot| *slot.borrow_mut() = logger);
}

pub fn enabled() -> bool {
    LOGGER.with(|slot| slot.borrow().is_some())
}

pub fn debug(line: &str) {
    // Taken out of the slot before the call: a logger that calls
    // setDebugLogger itself must not find the slot borrowed (a panic would
    // abort the whole wasm instance).
    let logger = LOGGER.with(|slot| slot.borrow().clone());
    if let Some(logger) = logger {
        // A failing logger must not break the request it describes.
        let _ = logger.call1(&JsValue::NULL, &JsValue::from_str(line));
    }
}
