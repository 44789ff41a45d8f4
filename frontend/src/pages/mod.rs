//! One module per route.

pub mod account;
pub mod admin;
pub mod container_create;
pub mod container_detail;
pub mod containers;
pub mod dashboard;
pub mod login;
pub mod shares;
pub mod volume_files;
