//! One module per route.

pub mod container_detail;
pub mod containers;
pub mod dashboard;
pub mod build;
pub mod image_detail;
pub mod images;
pub mod registries;
pub mod login;
