//! The table of open connections, so that a full server makes room by closing the
//! connection that has been idle longest instead of leaving new clients (a scraper) in the
//! kernel's backlog behind idle or slow ones.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

/// What the server knows of one connection. Shared by the connection's task, its I/O
/// wrapper and the accept loop.
#[derive(Debug)]
pub(crate) struct ConnState {
    /// A request is being handled (from its head to the end of its handler).
    pub in_handler: AtomicBool,
    /// A response is being written and not yet handed to the kernel in full.
    pub writing: AtomicBool,
    /// Milliseconds since the table's epoch of the last request or finished response.
    last_active: AtomicU64,
    /// Chosen to be closed; the connection's task closes it.
    shed: AtomicBool,
    /// Wakes the connection's task when it is shed.
    pub wake: Notify,
    epoch: Instant,
}

impl ConnState {
    /// Records activity now (a request arrived, a response went out).
    pub fn touch(&self) {
        self.last_active
            .store(self.epoch.elapsed().as_millis() as u64, Relaxed);
    }

    fn idle(&self) -> bool {
        !self.in_handler.load(Relaxed) && !self.writing.load(Relaxed) && !self.shed.load(Relaxed)
    }
}

/// The open connections.
#[derive(Debug)]
pub(crate) struct Conns {
    map: Mutex<HashMap<u64, Arc<ConnState>>>,
    next: AtomicU64,
    epoch: Instant,
    /// Signalled when a connection ends.
    pub freed: Notify,
}

impl Conns {
    pub fn new() -> Conns {
        Conns {
            map: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            epoch: Instant::now(),
            freed: Notify::new(),
        }
    }

    /// Connections held and not being shed.
    pub fn live(&self) -> usize {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.values().filter(|c| !c.shed.load(Relaxed)).count()
    }

    /// Registers a new connection; it leaves the table when the returned guard drops.
    pub fn add(self: &Arc<Self>) -> (Arc<ConnState>, Leave) {
        let state = Arc::new(ConnState {
            in_handler: AtomicBool::new(false),
            writing: AtomicBool::new(false),
            last_active: AtomicU64::new(0),
            shed: AtomicBool::new(false),
            wake: Notify::new(),
            epoch: self.epoch,
        });
        state.touch();
        let id = self.next.fetch_add(1, Relaxed);
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, state.clone());
        (
            state,
            Leave {
                conns: self.clone(),
                id,
            },
        )
    }

    /// Tells the idle connection that was active least recently (ties: the oldest) to
    /// close. False when every connection is busy.
    pub fn shed_one(&self) -> bool {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let victim = map
            .iter()
            .filter(|(_, c)| c.idle())
            .min_by_key(|(id, c)| (c.last_active.load(Relaxed), **id));
        match victim {
            Some((_, c)) => {
                c.shed.store(true, Relaxed);
                c.wake.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Removes a connection from the table when its task ends.
pub(crate) struct Leave {
    conns: Arc<Conns>,
    id: u64,
}

impl Drop for Leave {
    fn drop(&mut self) {
        self.conns
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
        self.conns.freed.notify_one();
    }
}
