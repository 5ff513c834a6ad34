//! The composition root of obliged: configuration and command line ([`cli`]), the policy file
//! ([`policy`]), wiring of the
//! adapters and the server's life cycle ([`startup`]), the promise clock's scheduler ([`scheduler`]) and the background workers ([`workers`]). The only crate that knows every adapter.

pub mod app;
pub mod cli;
pub mod policy;
pub mod scheduler;
pub mod startup;
pub mod workers;
