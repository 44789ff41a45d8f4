//! berth's integration tests: the real `berth` binary against a real Docker daemon.
//!
//! ONE test binary for the crate (modules below); run through `cargo xtask test`, which
//! starts a private dockerd and sets `BERTH_TEST_DOCKER_HOST` and `BERTH_TEST_IMAGE`.

mod access;
mod auth;
mod builds;
mod compose_corpus;
mod container_files;
mod containers;
mod create;
mod docker_cli;
mod environments;
mod events;
mod files;
mod first_run;
mod git_creds;
mod git_stacks;
mod hardening;
mod images;
mod imgkit;
mod logs;
mod ownership;
mod proxy;
mod registries;
mod registry_server;
mod resources;
mod route_matrix;
mod selfhost;
mod stack_access;
mod stacks;
mod strict_input;
mod support;
mod swarm;
mod swarm_api;
mod swarm_hooks;
mod swarm_nodes;
mod swarm_pages;
mod swarm_stacks;
mod system;
mod template_builtins;
mod templates;
mod terminal;
mod updates;
mod volume_files;
mod webhooks;
