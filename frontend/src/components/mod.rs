//! Pieces shared by several pages.

pub mod actions;
pub mod commit;
pub mod confirm;
pub mod file_browser;
pub mod header;
pub mod live;
pub mod logs_view;
pub mod picker;
pub mod pull;
pub mod socket;
pub mod stats_view;
pub mod status;
pub mod terminal;
pub mod theme;
pub mod update_mark;
pub mod yaml_editor;
