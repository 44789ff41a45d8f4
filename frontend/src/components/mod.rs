//! Pieces shared by several pages.

pub mod actions;
pub mod header;
pub mod live;
pub mod logs_view;
pub mod socket;
pub mod status;
pub mod terminal;
pub mod theme;
