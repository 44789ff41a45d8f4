//! Pieces shared by several pages.

pub mod actions;
pub mod file_browser;
pub mod files_view;
pub mod header;
pub mod live;
pub mod logs_view;
pub mod socket;
pub mod stats_view;
pub mod commit;
pub mod header;
pub mod live;
pub mod pull;
pub mod status;
pub mod terminal;
pub mod theme;
pub mod yaml_editor;
