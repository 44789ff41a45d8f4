//! Pieces shared by several pages.

pub mod actions;
pub mod file_browser;
pub mod header;
pub mod live;
pub mod status;
pub mod theme;
pub mod yaml_editor;
