//! One module per route.

pub mod build;
pub mod container_detail;
pub mod containers;
pub mod dashboard;
pub mod image_detail;
pub mod images;
pub mod login;
pub mod registries;
