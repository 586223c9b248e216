//! Sending requests: the HTTP client (reqwest) and the signing hook. The only module of the
//! library that talks to the network as a client.

mod client;
mod run_id;
mod sign;

pub use client::{Client, ClientOptions, TransportError, describe};
pub use run_id::fresh_run_id;
pub use sign::{SignError, Signer};
