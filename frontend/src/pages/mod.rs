//! One module per route.

pub mod container_create;
pub mod container_detail;
pub mod containers;
pub mod dashboard;
pub mod login;
