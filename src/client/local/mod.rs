//! Everything the client does on this machine's files and processes:
//! running the compiler and the preprocessor, temp files and signals,
//! writing outputs, re-flowing a pump job's dependency file, and `@file`
//! response files (spec §3.6, §3.11, §3.13).
//!
//! * [`spawn`]: the compiler and the preprocessor, run here.
//! * [`cppfast`]: the preprocessor without the compiler driver.
//! * [`cleanup`]: temp files and their removal at exit and on signals.
//! * [`output`]: atomic output files.
//! * [`dotd`]: the server's dependency file, as a local gcc writes it.
//! * [`respfile`]: `@file` expansion.

pub mod cleanup;
pub mod cppfast;
pub mod dotd;
pub mod output;
pub mod respfile;
pub mod spawn;
