//! The composition root of obliged: configuration and command line ([`cli`]), wiring of the
//! adapters and the server's life cycle ([`startup`]). The only crate that knows every adapter.

pub mod cli;
pub mod startup;
