//! The only place that talks to the daemon: through bollard, and for followed logs
//! straight over its socket ([`log_reader`]).
//!
//! A daemon is an [`Endpoint`] (an environment); which one a request talks to is chosen
//! per request by the [`Daemon`] extractor, never globally. [`Daemons`] is the live registry:
//! `local` (from `--docker-host`) and the environments stored in the database, each with
//! its own health loop ([`health`]), so a host that is down or slow answers at once from
//! its cached state and never holds up a request for another.

pub mod containers;
pub mod contexts;
pub mod create;
pub mod disk;
pub mod environment;
pub mod events;
pub mod files;
pub mod health;
pub mod images;
pub mod log_page;
pub mod log_reader;
pub mod logs;
pub mod networks;
pub mod progress;
pub mod raw;
pub mod recreate;
pub mod reference;
pub mod run;
pub mod service_logs;
pub mod settle;
pub mod stack_images;
pub mod stack_logs;
pub mod stack_spec;
pub mod stack_up;
pub mod stack_waits;
pub mod stacks;
pub mod stats;
pub mod swarm;
pub mod swarm_stack;
pub mod system;
pub mod tar_gate;
pub mod terminal;
pub mod tls;
pub mod transport;
pub mod volume_files;
pub mod volumes;

pub use environment::{Daemon, Daemons, Endpoint, LOCAL};
