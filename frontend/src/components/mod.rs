//! Pieces shared by several pages.

pub mod actions;
pub mod commit;
pub mod header;
pub mod live;
pub mod pull;
pub mod status;
pub mod theme;
