//! statsfs over HTTP: `/metrics` in Prometheus text or OpenMetrics (by `Accept`),
//! `/snapshot.json`, `/schema.json`, and an opt-in `POST /clear`. Built on hyper: the runtime
//! crate stays free of any HTTP dependency, and backends share only the runtime's walker.
#![deny(missing_docs)]

mod conns;
mod encode;
mod json;
mod server;
mod timed_io;

pub use encode::{encode, Format};
pub use json::{schema, snapshot};
pub use server::{Config, Server};
