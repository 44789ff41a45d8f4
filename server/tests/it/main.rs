//! berth's integration tests: the real `berth` binary against a real Docker daemon.
//!
//! ONE test binary for the crate (modules below); run through `cargo xtask test`, which
//! starts a private dockerd and sets `BERTH_TEST_DOCKER_HOST` and `BERTH_TEST_IMAGE`.

mod access;
mod auth;
mod containers;
mod events;
mod files;
mod proxy;
mod resources;
mod selfhost;
mod stack_access;
mod stacks;
mod support;
mod system;
mod volume_files;
