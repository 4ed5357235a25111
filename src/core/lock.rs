//! An async lock for one thread (WASM has one; the native tests run futures
//! on one too), so that concurrent callers needing a token refresh share one.
//! Twenty lines instead of futures-util's Mutex and its slab of waiters.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::{Poll, Waker};

#[derive(Default)]
pub struct Lock {
    locked: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

/// Held until dropped, across `.await`s.
pub struct Guard<'a>(&'a Lock);

impl Lock {
    pub async fn lock(&self) -> Guard<'_> {
        poll_fn(|cx| {
            if self.locked.replace(true) {
                self.waiting.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(Guard(self))
            }
        })
        .await
    }
}

impl Drop for Guard<'_> {
    /// Wake every waiter in the order they came: the first to run takes the
    /// lock, the others wait again. A waiter that was dropped meanwhile is
    /// woken for nothing, which is harmless.
    fn drop(&mut self) {
        self.0.locked.set(false);
        for waker in self.0.waiting.take() {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::join3;
    use std::cell::RefCell;

    /// Pending once, asking to be polled again (futures' `pending!` does not ask).
    async fn yield_now() {
        let mut yielded = false;
        poll_fn(|cx| {
            if std::mem::replace(&mut yielded, true) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await
    }

    #[test]
    fn holders_take_turns_across_awaits() {
        let lock = Lock::default();
        let log = RefCell::new(Vec::new());
        let worker = |name: &'static str| {
            let (lock, log) = (&lock, &log);
            async move {
                let _guard = lock.lock().await;
                log.borrow_mut().push(format!("{name} in"));
                // Give the others a chance to run while the lock is held.
                for _ in 0..3 {
                    yield_now().await;
                }
                log.borrow_mut().push(format!("{name} out"));
            }
        };
        futures::executor::block_on(join3(worker("a"), worker("b"), worker("c")));
        assert_eq!(*log.borrow(), ["a in", "a out", "b in", "b out", "c in", "c out"]);
        assert!(!lock.locked.get() && lock.waiting.borrow().is_empty());
    }
}
