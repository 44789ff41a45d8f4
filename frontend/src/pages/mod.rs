//! One module per route.

pub mod account;
pub mod admin;
pub mod build;
pub mod container_create;
pub mod container_detail;
pub mod containers;
pub mod dashboard;
pub mod environments;
pub mod git_stack;
pub mod image_detail;
pub mod images;
pub mod login;
pub mod networks;
pub mod registries;
pub mod shares;
pub mod stack_detail;
pub mod stacks;
pub mod swarm;
pub mod system;
pub mod templates;
pub mod volume_files;
pub mod volumes;
pub mod webhooks;
