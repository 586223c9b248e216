//! Sending requests: the HTTP client (reqwest) and the signing hook. The only module of the
//! library that talks to the network as a client.

mod client;
mod sign;

pub use client::{Client, ClientOptions, TransportError, describe};
pub use sign::{SignError, Signer};
