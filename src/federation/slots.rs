//! Work slots for the inbox workers. Many activities may be in flight at
//! once, so that one slow remote host cannot hold the queue, but only a few
//! may work (parse, query, write) at a time: on a small machine, sixteen
//! busy lanes would starve the inbox's own door and the client API of CPU
//! and pooled connections. A lane holds a slot while it works and lends it
//! out while it waits on the network (the one outbound client calls
//! [`while_waiting`]).
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

tokio::task_local! {
    static SLOT: Arc<Held>;
}

struct Held {
    slots: Arc<Semaphore>,
    permit: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Held {
    fn set(&self, p: Option<OwnedSemaphorePermit>) {
        *self.permit.lock().unwrap_or_else(|e| e.into_inner()) = p;
    }
}

/// Runs `work` holding one of `slots` (waiting for it first).
pub async fn with_slot<F: Future>(slots: Arc<Semaphore>, work: F) -> F::Output {
    let held = Arc::new(Held {
        permit: Mutex::new(slots.clone().acquire_owned().await.ok()),
        slots,
    });
    SLOT.scope(held, work).await
}

/// Runs a network wait without the caller's slot (if it holds one), and
/// takes a slot again afterwards.
pub async fn while_waiting<F: Future>(wait: F) -> F::Output {
    let Ok(held) = SLOT.try_with(Arc::clone) else {
        return wait.await;
    };
    held.set(None);
    let out = wait.await;
    held.set(held.slots.clone().acquire_owned().await.ok());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lane_lends_its_slot_while_it_waits() {
        let slots = Arc::new(Semaphore::new(1));
        let s2 = slots.clone();
        with_slot(slots.clone(), async move {
            assert_eq!(s2.available_permits(), 0, "held while working");
            while_waiting(async {
                assert_eq!(s2.available_permits(), 1, "lent while waiting");
            })
            .await;
            assert_eq!(s2.available_permits(), 0, "taken back");
        })
        .await;
        assert_eq!(slots.available_permits(), 1, "given back at the end");
        // Outside a lane, waiting changes nothing.
        while_waiting(async {}).await;
    }
}
